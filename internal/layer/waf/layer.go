package waf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"
	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// Name is the layer's name in pipeline.Order and in route configs.
const Name = "waf"

func init() {
	pipeline.Register(Name, factory)
}

// Layer inspects requests with Coraza and the OWASP Core Rule Set.
type Layer struct {
	cfg Config
	eng *engine
	// newTx is resolved once: Coraza's WAF only offers transactions with
	// an id and context through the experimental interface.
	newTx func(id string, ctx context.Context) types.Transaction
}

var (
	_ pipeline.Layer  = (*Layer)(nil)
	_ pipeline.Closer = (*Layer)(nil)
)

func factory(b *pipeline.Build, node *yaml.Node) (pipeline.Layer, error) {
	c, err := parseConfig(b, node)
	if err != nil {
		return nil, err
	}
	return New(c)
}

// New builds a layer from an already validated config (tests and tools).
func New(c Config) (*Layer, error) {
	e, err := acquire(c)
	if err != nil {
		return nil, err
	}
	l := &Layer{cfg: c, eng: e}
	if wo, ok := e.waf.(experimental.WAFWithOptions); ok {
		l.newTx = func(id string, ctx context.Context) types.Transaction {
			return wo.NewTransactionWithOptions(experimental.Options{ID: id, Context: ctx})
		}
	} else {
		l.newTx = func(string, context.Context) types.Transaction { return e.waf.NewTransaction() }
	}
	return l, nil
}

// Name implements pipeline.Layer.
func (l *Layer) Name() string { return Name }

// Close releases the layer's share of its engine; the last user closes it.
func (l *Layer) Close() error {
	if l.eng == nil {
		return nil
	}
	e := l.eng
	l.eng = nil
	return e.release()
}

// errNoEngine is returned when a retired layer is still called; it fails
// closed like any other internal error.
var errNoEngine = errors.New("the WAF layer was closed")

// Evaluate runs the request phases of CRS. It fails closed: any error
// while feeding the transaction is a waf_error, never a pass.
func (l *Layer) Evaluate(ctx context.Context, r *pipeline.Request) verdict.Verdict {
	if l.eng == nil {
		return failed(errNoEngine)
	}
	hr := r.HTTP
	withBody := hasBody(hr)
	if withBody && hr.ContentLength > int64(l.cfg.BodyLimit) {
		return l.tooLarge()
	}
	tx := l.newTx(r.ID, ctx)
	defer func() { _ = tx.Close() }()
	// Released before Close recycles the transaction (defers run last
	// first).
	defer endScans(beginScans(tx))

	it, err := l.process(tx, r, withBody)
	if err != nil {
		if errors.Is(err, pipeline.ErrBodyTooLarge) || errors.Is(err, errBodyLimit) {
			return l.tooLarge()
		}
		return failed(err)
	}
	// Everything the verdict needs is copied out of the transaction here,
	// before the deferred Close recycles it.
	rep := newReport(tx, it)
	return l.decide(rep)
}

// errBodyLimit is a body that turned out larger than body_limit once read
// (no or a wrong Content-Length).
var errBodyLimit = errors.New("body over the WAF inspection limit")

// process feeds the transaction the way coraza/http's processRequest does,
// but reads the body through the pipeline (buffered once, put back for the
// upstream) and returns every failure instead of swallowing it.
func (l *Layer) process(tx types.Transaction, r *pipeline.Request, withBody bool) (*types.Interruption, error) {
	hr := r.HTTP
	client := ""
	if r.ClientIP.IsValid() {
		client = r.ClientIP.String()
	}
	tx.ProcessConnection(client, 0, "", 0)
	uri := hr.RequestURI
	if uri == "" && hr.URL != nil {
		uri = hr.URL.RequestURI()
	}
	tx.ProcessURI(uri, hr.Method, hr.Proto)
	for k, vs := range hr.Header {
		for _, v := range vs {
			tx.AddRequestHeader(k, v)
		}
	}
	// net/http moves Host and Transfer-Encoding out of Header; CRS has
	// rules on both (e.g. 920280 missing Host, 920171 smuggling).
	if hr.Host != "" {
		tx.AddRequestHeader("Host", hr.Host)
		tx.SetServerName(hr.Host)
	}
	// Server requests keep Content-Length in Header, but requests built
	// in-process may not; CRS 920180 would then flag every POST.
	if hr.ContentLength > 0 && hr.Header.Get("Content-Length") == "" {
		tx.AddRequestHeader("Content-Length", strconv.FormatInt(hr.ContentLength, 10))
	}
	for _, te := range hr.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return it, nil
	}
	if withBody && tx.IsRequestBodyAccessible() {
		body, err := r.Body()
		if err != nil {
			return nil, err
		}
		if int64(len(body)) > int64(l.cfg.BodyLimit) {
			return nil, errBodyLimit
		}
		if len(body) > 0 {
			it, _, err := tx.WriteRequestBody(body)
			if err != nil {
				return nil, fmt.Errorf("feeding the request body to the WAF: %w", err)
			}
			if it != nil {
				return it, nil
			}
		}
	}
	// Phase 2 runs even without a body: CRS's blocking evaluation (949110)
	// lives there.
	it, err := tx.ProcessRequestBody()
	if err != nil {
		return nil, fmt.Errorf("inspecting the request body: %w", err)
	}
	return it, nil
}

// hasBody is true when the request carries (or may carry) a body.
func hasBody(hr *http.Request) bool {
	return hr.Body != nil && hr.Body != http.NoBody && hr.ContentLength != 0
}

// decide turns a report into a verdict.
func (l *Layer) decide(rep report) verdict.Verdict {
	if !rep.interrupted {
		v := verdict.Pass()
		if len(rep.rules) > 0 {
			// Matches below the threshold are worth seeing in the trace:
			// they are what a lower threshold or higher paranoia would
			// block.
			v.Evidence = rep.evidence()
		}
		return v
	}
	var v verdict.Verdict
	switch {
	case rep.status == http.StatusRequestEntityTooLarge:
		return l.tooLarge()
	case rep.ruleID == ruleBodyError || rep.ruleID == ruleMultipartStrict:
		v = verdict.Denied("malformed_body", itoa(rep.ruleID),
			"the firewall could not parse the request body for inspection").
			WithStatus(http.StatusBadRequest)
	default:
		v = verdict.Denied("waf_blocked", rep.primaryRule(), rep.detail()).WithHint(rep.hint())
	}
	v.Evidence = rep.evidence()
	if l.cfg.DetectionOnly {
		v.Outcome = verdict.ShadowDeny
	}
	return v
}

// tooLarge refuses a body the WAF will not inspect: passing it uninspected
// would let an attacker pad a payload past the limit.
func (l *Layer) tooLarge() verdict.Verdict {
	v := verdict.Denied("body_too_large", "body_limit",
		"the request body is larger than the "+formatSize(int64(l.cfg.BodyLimit))+" the firewall inspects on this route")
	if l.cfg.DetectionOnly {
		v.Outcome = verdict.ShadowDeny
	}
	return v
}

// failed is the fail-closed verdict of an internal error. The error text
// goes to the trace only: it may quote the request.
func failed(err error) verdict.Verdict {
	return verdict.Failed("waf_error", "",
		"the firewall could not inspect the request, so it was refused").
		With("error", strings.TrimSpace(err.Error()))
}
