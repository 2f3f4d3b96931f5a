package cli

import (
	"io"
	"os"
)

// readInput reads the file at path, or standard input when path is "-".
func readInput(stdin io.Reader, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}
