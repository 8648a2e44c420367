package h1server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

var (
	errMalformedChunk = errors.New("h1server: malformed chunked encoding")
	errChunkLineLong  = errors.New("h1server: chunk line too long")
	errChunkBareLF    = errors.New("h1server: chunk line ends with bare LF")
	errChunkCR        = errors.New("h1server: invalid CR in chunk line")
	errChunkSize      = errors.New("h1server: invalid chunk size")
	errChunkOverhead  = errors.New("h1server: chunked encoding contains too much non-data")
	errTrailerTooLong = errors.New("h1server: trailer too long")
	errTrailerBareLF  = errors.New("h1server: trailer line ends with bare LF")
	errBodyHijacked   = errors.New("h1server: request body read after the connection was hijacked")
)

// body is a request body, delimited by Content-Length or chunked. It
// reads from its connection's buffer, so it lives only as long as its
// request: when the handler returns the server drains what is left (up
// to maxPostHandlerReadBytes) and closes it, and later reads fail.
type body struct {
	c   *conn
	req *http.Request // receives the trailer of a chunked body

	mu      sync.Mutex
	chunked bool
	expect  bool  // a 100 Continue is due before the first read
	remain  int64 // Content-Length: bytes still to read
	// Chunked framing, as net/http's chunkedReader keeps it.
	chunkLeft uint64
	checkEnd  bool        // the CRLF after a chunk's data is due
	excess    int64       // framing bytes beyond what the data justifies
	sawEOF    atomic.Bool // read without the lock by the response
	closed    bool
	err       error // sticky: framing or connection failure
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.c.hijacked.Load() {
		return 0, errBodyHijacked
	}
	return b.readLocked(p)
}

// Close stops the handler's reading; the server deals with what is left.
func (b *body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

func (b *body) readLocked(p []byte) (n int, err error) {
	if b.sawEOF.Load() {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.expect {
		b.expect = false
		b.c.res.sendContinue()
	}
	if b.chunked {
		n, err = b.readChunked(p)
	} else {
		n, err = b.readFixed(p)
	}
	if err == io.EOF {
		b.sawEOF.Store(true)
		b.c.watch.arm() // all read: watch for the client going away
	} else if err != nil {
		b.err = err
	}
	return n, err
}

func (b *body) readFixed(p []byte) (int, error) {
	if b.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.c.readBody(p)
	b.remain -= int64(n)
	if b.remain == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// readChunked is net/http's chunkedReader.Read over the connection's
// buffer, except that it returns what it has rather than block for more.
func (b *body) readChunked(p []byte) (n int, err error) {
	c := b.c
	for {
		if b.checkEnd {
			if n > 0 && c.rend-c.rpos < 2 {
				return n, nil
			}
			if err := c.ensure(2); err != nil {
				return n, err
			}
			if c.rbuf[c.rpos] != '\r' || c.rbuf[c.rpos+1] != '\n' {
				return n, errMalformedChunk
			}
			c.rpos += 2
			b.checkEnd = false
		}
		if b.chunkLeft == 0 {
			if n > 0 && !c.lineBuffered() {
				return n, nil
			}
			size, err := b.beginChunk()
			if err != nil {
				return n, err
			}
			if size == 0 {
				return n, b.readTrailer()
			}
			b.chunkLeft = size
			continue
		}
		if len(p) == 0 || n > 0 && c.rpos == c.rend {
			return n, nil
		}
		rb := p
		if uint64(len(rb)) > b.chunkLeft {
			rb = rb[:b.chunkLeft]
		}
		n0, err := c.readBody(rb)
		n += n0
		p = p[n0:]
		b.chunkLeft -= uint64(n0)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		if b.chunkLeft == 0 {
			b.checkEnd = true
		}
	}
}

// beginChunk reads a chunk-size line and returns the size.
func (b *body) beginChunk() (uint64, error) {
	line, err := b.c.readLine(maxChunkLineLength)
	if err != nil {
		if err == errLineTooLong {
			err = errChunkLineLong
		}
		return 0, err
	}
	// RFC 9112 allows no bare LF here (erratum 7633), nor a stray CR.
	cr := bytes.IndexByte(line, '\r')
	if cr < 0 {
		return 0, errChunkBareLF
	}
	if cr != len(line)-2 {
		return 0, errChunkCR
	}
	line = line[:len(line)-2]
	b.excess += int64(len(line)) + 2
	for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
		line = line[:len(line)-1]
	}
	line, _, _ = bytes.Cut(line, []byte(";")) // extensions are ignored
	size, err := parseHexUint(line)
	if err != nil {
		return 0, err
	}
	// Like net/http: allow 16 bytes of framing per chunk plus twice its
	// data, so "1;very long extension" cannot make the server read a
	// lot for little.
	b.excess -= 16 + 2*int64(min(size, 1<<40))
	b.excess = max(b.excess, 0)
	if b.excess > 16<<10 {
		return 0, errChunkOverhead
	}
	return size, nil
}

func parseHexUint(v []byte) (uint64, error) {
	if len(v) == 0 || len(v) > 16 {
		return 0, errChunkSize
	}
	var n uint64
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, errChunkSize
		}
		n = n<<4 | uint64(c)
	}
	return n, nil
}

// readTrailer reads the trailer section after the last chunk into
// req.Trailer and returns io.EOF, the end of the body.
func (b *body) readTrailer() error {
	c := b.c
	if err := c.ensure(2); err != nil {
		return err
	}
	if c.rbuf[c.rpos] == '\r' && c.rbuf[c.rpos+1] == '\n' {
		c.rpos += 2
		return io.EOF
	}
	// As net/http, the trailer must fit the read buffer.
	for {
		end, err := trailerEnd(c.rbuf[c.rpos:c.rend])
		if err != nil {
			return err
		}
		if end >= 0 {
			block := string(c.rbuf[c.rpos : c.rpos+end])
			c.rpos += end
			return b.parseTrailer(block)
		}
		if c.rend-c.rpos >= readBufSize {
			return errTrailerTooLong
		}
		if err := c.fill(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

func (b *body) parseTrailer(block string) error {
	t := b.req.Trailer
	if t == nil {
		t = make(http.Header)
	}
	for block != "" {
		nl := indexByte(block, '\n')
		line := block[:nl]
		block = block[nl+1:]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if line == "" {
			break
		}
		key, value, perr := parseField(line)
		if perr != nil {
			return errors.New("h1server: malformed trailer: " + perr.reason)
		}
		t[key] = append(t[key], value)
	}
	b.req.Trailer = t
	return io.EOF
}

// trailerEnd returns the offset just past the empty line that ends the
// trailer section in b, or -1 if it is not all there yet. Every line
// must end in CRLF, as chunk lines must: were a bare LF to end the
// section, "0\r\n\nGET /x ..." would end the body for this server while
// a front proxy that skips trailers up to a CRLF CRLF (or reads "\n" as
// no line end) takes the next request for part of this one.
func trailerEnd(b []byte) (int, error) {
	i := 0
	for {
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			return -1, nil
		}
		nl += i
		if nl == i || b[nl-1] != '\r' {
			return 0, errTrailerBareLF
		}
		if nl == i+1 {
			return nl + 1, nil
		}
		i = nl + 1
	}
}

// drain reads and drops what the handler left of the body, up to limit
// bytes, and reports whether the body ended: only then can the
// connection carry another request. The body is closed afterwards.
func (b *body) drain(limit int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() { b.closed = true }()
	switch {
	case b.sawEOF.Load():
		return true
	case b.err != nil:
		return false
	case b.expect:
		// The client waits for a 100 Continue that will not come: it
		// may not send the body at all, so reading it could hang.
		return false
	}
	if !b.chunked {
		if b.remain >= limit {
			return false
		}
		c := b.c
		for b.remain > 0 {
			if c.rpos == c.rend {
				c.rpos, c.rend = 0, 0
				if err := c.fill(); err != nil {
					return false
				}
			}
			k := min(int64(c.rend-c.rpos), b.remain)
			c.rpos += int(k)
			b.remain -= k
		}
		b.sawEOF.Store(true)
		return true
	}
	buf := make([]byte, 4<<10)
	var total int64
	for total <= limit {
		n, err := b.readLocked(buf)
		total += int64(n)
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
