package calllog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"pinpoint/internal/trace"
	"pinpoint/internal/verdict"
)

// Records in blocks are encoded field by field: each string as its length
// and bytes, each number as a varint, in the order of trace.Record. That
// is a copy of the record's bytes, where JSON had to escape every string;
// the encoding ran once per request and was the call log's largest cost
// after the row insert went. Rows (records with foreign ids) keep JSON.
//
// recVersion is the first byte of an encoded record; a reader refuses
// versions it does not know instead of misreading them.
const recVersion = 1

// appendRecord appends r's encoding to b.
func appendRecord(b []byte, r *trace.Record) ([]byte, error) {
	b = append(b, recVersion)
	b = appendStr(b, r.ID)
	_, off := r.Time.Zone()
	b = binary.AppendVarint(b, r.Time.UnixNano())
	b = binary.AppendVarint(b, int64(off))
	for _, s := range [...]string{r.Method, r.Host, r.Path, r.Query, r.RouteID, r.Client} {
		b = appendStr(b, s)
	}
	for _, n := range [...]int64{int64(r.Status), r.Micros, r.BytesIn, r.BytesOut} {
		b = binary.AppendVarint(b, n)
	}
	for _, s := range [...]string{r.Consumer, r.KeyID, r.Tenant, r.Upstream} {
		b = appendStr(b, s)
	}
	b = binary.AppendVarint(b, int64(r.UpStatus))
	for _, s := range [...]string{r.DeniedBy, r.Layer, r.Code, r.Rule, r.Detail, r.Hint} {
		b = appendStr(b, s)
	}
	var flags byte
	if r.DryRun {
		flags |= 1
	}
	if r.ShadowHit {
		flags |= 2
	}
	b = append(b, flags)
	// Counts are stored plus one, so that zero can say "nil" and a nil
	// slice or map reads back nil, as it did through JSON.
	b = appendCount(b, r.Steps == nil, len(r.Steps))
	for i := range r.Steps {
		s := &r.Steps[i]
		for _, v := range [...]string{s.Layer, s.Outcome, s.Code, s.Rule, s.Detail, s.Hint} {
			b = appendStr(b, v)
		}
		b = binary.AppendVarint(b, int64(s.Status))
		b = appendStr(b, s.Mode)
		b = binary.AppendVarint(b, s.Nanos)
		b = appendCount(b, len(s.Evidence) == 0, len(s.Evidence))
		for _, f := range s.Evidence {
			b = appendStr(b, f.Key)
			b = appendStr(b, f.Value)
		}
	}
	b = appendCount(b, len(r.Headers) == 0, len(r.Headers))
	for k, v := range r.Headers {
		b = appendStr(b, k)
		b = appendStr(b, v)
	}
	if len(r.Extra) == 0 {
		return appendStr(b, ""), nil
	}
	// Extra holds arbitrary values (AI usage, costs) and is rare: it
	// keeps encoding/json's encoding, and reads back as JSON did.
	extra, err := json.Marshal(r.Extra)
	if err != nil {
		return b, err
	}
	b = binary.AppendUvarint(b, uint64(len(extra)))
	return append(b, extra...), nil
}

func appendCount(b []byte, isNil bool, n int) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

var errBadRecord = errors.New("call log record is corrupt")

// recReader reads an encoded record; the first malformed field sets err
// and every later read returns zero values.
type recReader struct {
	p   []byte
	err error
}

func (d *recReader) fail() { d.err, d.p = errBadRecord, nil }

func (d *recReader) str() string {
	n, w := binary.Uvarint(d.p)
	if w <= 0 || uint64(len(d.p)-w) < n {
		d.fail()
		return ""
	}
	s := string(d.p[w : w+int(n)])
	d.p = d.p[w+int(n):]
	return s
}

func (d *recReader) int() int64 {
	v, w := binary.Varint(d.p)
	if w <= 0 {
		d.fail()
		return 0
	}
	d.p = d.p[w:]
	return v
}

func (d *recReader) byte() byte {
	if len(d.p) == 0 {
		d.fail()
		return 0
	}
	c := d.p[0]
	d.p = d.p[1:]
	return c
}

// count reads a count stored plus one; nil is true for a stored zero. A
// count larger than the bytes left (each element takes at least one) is
// corrupt, which bounds what a damaged record can make the reader
// allocate.
func (d *recReader) count() (n int, isNil bool) {
	v, w := binary.Uvarint(d.p)
	if w <= 0 || v > uint64(len(d.p)) {
		d.fail()
		return 0, true
	}
	d.p = d.p[w:]
	if v == 0 {
		return 0, true
	}
	return int(v - 1), false
}

// decodeRecord reads a record appendRecord wrote.
func decodeRecord(p []byte) (*trace.Record, error) {
	if len(p) == 0 || p[0] != recVersion {
		return nil, errBadRecord
	}
	d := &recReader{p: p[1:]}
	r := &trace.Record{ID: d.str()}
	nanos, off := d.int(), d.int()
	r.Time = time.Unix(0, nanos)
	if off == 0 {
		r.Time = r.Time.UTC()
	} else {
		r.Time = r.Time.In(time.FixedZone("", int(off)))
	}
	r.Method, r.Host, r.Path, r.Query, r.RouteID, r.Client = d.str(), d.str(), d.str(), d.str(), d.str(), d.str()
	r.Status, r.Micros, r.BytesIn, r.BytesOut = int(d.int()), d.int(), d.int(), d.int()
	r.Consumer, r.KeyID, r.Tenant, r.Upstream = d.str(), d.str(), d.str(), d.str()
	r.UpStatus = int(d.int())
	r.DeniedBy, r.Layer, r.Code, r.Rule, r.Detail, r.Hint = d.str(), d.str(), d.str(), d.str(), d.str(), d.str()
	flags := d.byte()
	r.DryRun, r.ShadowHit = flags&1 != 0, flags&2 != 0
	if n, isNil := d.count(); !isNil {
		r.Steps = make([]trace.Step, n)
		for i := range r.Steps {
			s := &r.Steps[i]
			s.Layer, s.Outcome, s.Code, s.Rule, s.Detail, s.Hint = d.str(), d.str(), d.str(), d.str(), d.str(), d.str()
			s.Status = int(d.int())
			s.Mode = d.str()
			s.Nanos = d.int()
			if m, isNil := d.count(); !isNil {
				s.Evidence = make([]verdict.Field, m)
				for j := range s.Evidence {
					s.Evidence[j] = verdict.Field{Key: d.str(), Value: d.str()}
				}
			}
		}
	}
	if n, isNil := d.count(); !isNil {
		r.Headers = make(map[string]string, n)
		for range n {
			k := d.str()
			r.Headers[k] = d.str()
		}
	}
	extra := d.str()
	if d.err != nil {
		return nil, d.err
	}
	if extra != "" {
		if err := json.Unmarshal([]byte(extra), &r.Extra); err != nil {
			return nil, errBadRecord
		}
	}
	return r, nil
}
