package provider

import (
	"bufio"
	"bytes"
	"io"
)

// SSE reads server-sent events. It returns each event as soon as its
// terminating blank line arrives, so a stream is translated event by event
// and never buffered whole.
type SSE struct {
	r     *bufio.Reader
	data  []byte
	event []byte
}

// NewSSE reads events from r.
func NewSSE(r io.Reader) *SSE { return &SSE{r: bufio.NewReaderSize(r, 16<<10)} }

// Next returns the next event's name and data (joined data lines). The
// slices are valid until the next call. io.EOF ends the stream; a stream
// cut in the middle of an event returns io.ErrUnexpectedEOF.
func (s *SSE) Next() (event, data []byte, err error) {
	s.data, s.event = s.data[:0], s.event[:0]
	seen := false
	for {
		line, err := s.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A very long line: collect it whole.
			rest, err2 := s.r.ReadBytes('\n')
			line = append(append([]byte(nil), line...), rest...)
			err = err2
		}
		if err != nil && len(line) == 0 {
			if err == io.EOF && seen {
				return s.event, s.data, nil
			}
			if err == io.EOF {
				return nil, nil, io.EOF
			}
			return nil, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if seen {
				return s.event, s.data, nil
			}
			continue
		}
		switch {
		case line[0] == ':':
			// comment / keep-alive
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[5:], []byte(" "))
			if seen && len(s.data) > 0 {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, v...)
			seen = true
		case bytes.HasPrefix(line, []byte("event:")):
			s.event = append(s.event, bytes.TrimSpace(line[6:])...)
			seen = true
		}
		if err == io.EOF {
			if seen {
				return s.event, s.data, nil
			}
			return nil, nil, io.ErrUnexpectedEOF
		}
	}
}
