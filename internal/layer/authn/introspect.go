package authn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"pinpoint/internal/pipeline"
	"pinpoint/internal/verdict"
)

// introspector asks an OAuth2 authorization server whether an opaque token
// is active (RFC 7662), caching answers by token hash.
type introspector struct {
	url          string
	clientID     string
	clientSecret string
	ttl          time.Duration
	claims       ClaimMap
	hc           *http.Client
	cache        *tokenCache
}

func newIntrospector(b *pipeline.Build, node *yaml.Node, c *IntrospectionConfig) (*introspector, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, b.Errorf(node, "introspection.url", "want the http(s) URL of the introspection endpoint")
	}
	in := &introspector{url: c.URL, clientID: c.ClientID, clientSecret: c.ClientSecret, ttl: c.CacheTTL, claims: c.Claims}
	if in.ttl == 0 {
		in.ttl = DefaultIntrospectTTL
	}
	if in.ttl < 0 {
		return nil, b.Errorf(node, "introspection.cache_ttl", "must not be negative")
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	in.hc = &http.Client{Timeout: timeout}
	size := c.CacheSize
	if size <= 0 {
		size = DefaultTokenCache
	}
	in.cache = newTokenCache(size)
	return in, nil
}

func (in *introspector) ask(ctx context.Context, token string) (*tokenInfo, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if in.clientID != "" {
		req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.clientSecret))
	}
	resp, err := in.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("introspection request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspection endpoint answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var all map[string]any
	if err := json.Unmarshal(body, &all); err != nil {
		return nil, fmt.Errorf("introspection answer is not JSON: %w", err)
	}
	active, _ := all["active"].(bool)
	info := &tokenInfo{inactive: !active, claims: all}
	if !active {
		return info, nil
	}
	if exp, ok := all["exp"].(float64); ok && exp > 0 {
		info.exp = time.Unix(int64(exp), 0)
	}
	mapClaims(info, all, in.claims)
	if info.subject == "" && in.claims.Consumer == "" {
		// Client-credentials tokens often carry only client_id.
		info.subject, _ = all["client_id"].(string)
	}
	return info, nil
}

// introspect authenticates an opaque token.
func (l *Layer) introspect(ctx context.Context, r *pipeline.Request, raw string, h [32]byte, now time.Time) verdict.Verdict {
	in := l.intro
	info := in.cache.get(h)
	if info != nil && (!now.Before(info.until) || (!info.exp.IsZero() && !now.Before(info.exp))) {
		in.cache.remove(h)
		info = nil
	}
	cached := info != nil
	if info == nil {
		var err error
		if info, err = in.ask(ctx, raw); err != nil {
			return verdict.Failed("authn_backend_unavailable", "authn", "the authorization server could not be asked about the token").With("error", err.Error())
		}
		info.until = now.Add(in.ttl)
		in.cache.put(h, info)
	}
	if info.inactive {
		return l.deny("token_inactive", "the authorization server reports the token as not active (revoked or expired)", viaBearer, "token inactive")
	}
	if !info.exp.IsZero() && !now.Before(info.exp) {
		return l.deny("token_expired", "the token expired at "+info.exp.UTC().Format(time.RFC3339), viaBearer, "token expired")
	}
	return l.accept(r, info, "oauth2", cached)
}
