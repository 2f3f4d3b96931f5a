package openaichat

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxEventBytes caps one server-sent event, so a server that never ends a
// line cannot exhaust memory. A chunk of a chat completion stream is well
// under 64 KiB.
const maxEventBytes = 1 << 20

var errEventTooLarge = errors.New("server-sent event larger than 1 MiB")

// eventReader decodes a text/event-stream body as the HTML Living Standard
// defines it in section 9.2, server-sent events. Lines end in CRLF, LF or
// CR, and lines starting with a colon are comments. The "data" fields of
// one event are joined with newlines, and an empty line dispatches the
// event. Only the data of each event is returned, because the chat
// completion stream uses no other field.
type eventReader struct {
	lines *bufio.Scanner
	data  bytes.Buffer
}

func newEventReader(r io.Reader) *eventReader {
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 0, 16<<10), maxEventBytes)
	lines.Split(splitLines)
	return &eventReader{lines: lines}
}

// Next returns the data of the next event that has a data field. It returns
// io.EOF at the end of the stream; an event cut off by the end is dropped,
// as the standard requires.
func (e *eventReader) Next() ([]byte, error) {
	e.data.Reset()
	hasData := false
	for e.lines.Scan() {
		line := e.lines.Bytes()
		if len(line) == 0 {
			if hasData {
				return bytes.TrimSuffix(e.data.Bytes(), []byte("\n")), nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}

		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		if string(field) != "data" {
			continue
		}
		if e.data.Len()+len(value) > maxEventBytes {
			return nil, errEventTooLarge
		}
		e.data.Write(value)
		e.data.WriteByte('\n')
		hasData = true
	}

	if err := e.lines.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, errEventTooLarge
		}
		return nil, err
	}
	return nil, io.EOF
}

// splitLines is a bufio.SplitFunc for the line endings of server-sent
// events: CRLF, LF or a lone CR. A last line without an ending is dropped,
// because it cannot complete an event.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0:
		if atEOF {
			return len(data), nil, nil
		}
		return 0, nil, nil
	case data[i] == '\n':
		return i + 1, data[:i], nil
	case i+1 < len(data):
		if data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
		return i + 1, data[:i], nil
	case atEOF:
		return i + 1, data[:i], nil
	}
	// A CR at the end of the buffer: read on to see whether LF follows.
	return 0, nil, nil
}
