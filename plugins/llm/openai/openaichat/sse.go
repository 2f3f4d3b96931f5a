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
	lines *bufio.Reader
	data  bytes.Buffer
	// pendingCR is set after a line that ended in CR, so a following LF is
	// not read as an empty line.
	pendingCR bool
}

func newEventReader(r io.Reader) *eventReader {
	return &eventReader{lines: bufio.NewReaderSize(r, 16<<10)}
}

// Next returns the data of the next event that has a data field. It returns
// io.EOF at the end of the stream; an event cut off by the end is dropped,
// as the standard requires.
func (e *eventReader) Next() ([]byte, error) {
	e.data.Reset()
	hasData := false
	for {
		line, err := e.readLine()
		if err != nil {
			return nil, err
		}
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
}

// readLine returns the next line without its terminator.
func (e *eventReader) readLine() ([]byte, error) {
	var line []byte
	for {
		b, err := e.lines.ReadByte()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				// A last line without a terminator cannot end an event.
				return nil, io.EOF
			}
			return nil, err
		}
		if e.pendingCR {
			e.pendingCR = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\n':
			return line, nil
		case '\r':
			e.pendingCR = true
			return line, nil
		}
		if len(line) >= maxEventBytes {
			return nil, errEventTooLarge
		}
		line = append(line, b)
	}
}
