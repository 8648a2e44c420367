package probe

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// JWT is a token decoded without verifying its signature: the probe has
// no keys, and the claims alone explain most token denials.
type JWT struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

// DecodeJWT splits and decodes a compact JWS. It never verifies.
func DecodeJWT(tok string) (*JWT, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("a JWT has 3 dot-separated parts, this has %d", len(parts))
	}
	var j JWT
	for i, dst := range []*map[string]any{&j.Header, &j.Claims} {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil {
			return nil, fmt.Errorf("part %d is not base64url: %w", i+1, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, fmt.Errorf("part %d is not JSON: %w", i+1, err)
		}
		if *dst == nil {
			return nil, errors.New("a JWT part is not a JSON object")
		}
	}
	return &j, nil
}

// NumericDate reads a time claim.
func (j *JWT) NumericDate(name string) (time.Time, bool) {
	f, ok := j.Claims[name].(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// Strings reads a claim that may be a string or a list of strings.
func (j *JWT) Strings(name string) []string {
	switch v := j.Claims[name].(type) {
	case string:
		if name == "scope" || name == "scp" {
			return strings.Fields(v)
		}
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Scopes merges scope and scp, the two claims providers use.
func (j *JWT) Scopes() []string {
	return append(j.Strings("scope"), j.Strings("scp")...)
}

// bearerToken extracts the token from Authorization (or an API key
// header carrying a JWT).
func bearerToken(h http.Header) string {
	v := strings.TrimSpace(h.Get("Authorization"))
	if s, tok, ok := strings.Cut(v, " "); ok && strings.EqualFold(s, "bearer") {
		return strings.Trim(strings.TrimSpace(tok), `"'`)
	}
	if strings.HasPrefix(v, "eyJ") {
		return v
	}
	return ""
}

// humanDuration says "2h0m ago" style durations plainly.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - h*60
		if m == 0 {
			return fmt.Sprintf("%d hours", h)
		}
		return fmt.Sprintf("%d hours %d minutes", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// checkCredentials decodes a bearer JWT and checks its time claims
// against our clock and, when known, the server's (Date header), so
// clock skew is shown rather than guessed.
func checkCredentials(c *collector, r *Request, now time.Time, serverDate time.Time) *JWT {
	tok := bearerToken(r.Header)
	if tok == "" {
		c.step(PhaseCredentials, "JWT", Skip, "no bearer JWT")
		return nil
	}
	j, err := DecodeJWT(tok)
	if err != nil {
		if strings.Count(tok, ".") == 2 {
			c.step(PhaseCredentials, "JWT", Fail, "looks like a JWT but does not decode: "+err.Error())
			c.find(Finding{ID: "token.malformed", Title: "The bearer token is a damaged JWT", Confidence: 75, Phase: PhaseCredentials,
				Evidence: []string{err.Error()}, Fix: "Copy the whole token again; it was truncated or altered."})
		} else {
			c.step(PhaseCredentials, "JWT", Info, "opaque bearer token (not a JWT), cannot be checked offline")
		}
		return nil
	}
	alg, _ := j.Header["alg"].(string)
	iss, _ := j.Claims["iss"].(string)
	desc := "alg " + alg
	if iss != "" {
		desc += ", iss " + iss
	}
	if aud := j.Strings("aud"); len(aud) > 0 {
		desc += ", aud " + strings.Join(aud, " ")
	}
	if sc := j.Scopes(); len(sc) > 0 {
		desc += ", scope " + strings.Join(sc, " ")
	}
	if roles := append(j.Strings("roles"), j.Strings("groups")...); len(roles) > 0 {
		desc += ", roles " + strings.Join(roles, " ")
	}
	c.step(PhaseCredentials, "JWT decoded (not verified)", Info, desc)
	if strings.EqualFold(alg, "none") {
		c.step(PhaseCredentials, "JWT alg", Fail, "alg none: unsigned tokens are refused by every sane server")
		c.find(Finding{ID: "token.alg_none", Title: "The JWT is unsigned (alg none)", Confidence: 80, Phase: PhaseCredentials,
			Evidence: []string{`header alg "none"`}, Fix: "Get a signed token from the identity provider."})
	}
	skewNote := ""
	if !serverDate.IsZero() {
		skew := serverDate.Sub(now)
		if skew.Abs() > 30*time.Second {
			skewNote = fmt.Sprintf(" (server clock differs from yours by %s)", humanDuration(skew))
		} else {
			skewNote = " (server clock within 30s of yours)"
		}
	}
	ref := now
	if !serverDate.IsZero() {
		ref = serverDate
	}
	if exp, ok := j.NumericDate("exp"); ok {
		if !exp.After(ref) {
			ago := ref.Sub(exp)
			c.step(PhaseCredentials, "JWT exp", Fail, "expired "+humanDuration(ago)+" ago"+skewNote)
			c.find(Finding{ID: "token.expired", Title: "The token expired " + humanDuration(ago) + " ago", Confidence: 80, Phase: PhaseCredentials,
				Evidence: []string{"exp " + exp.UTC().Format(time.RFC3339) + ", now " + ref.UTC().Format(time.RFC3339) + skewNote},
				Fix:      "Get a new token (refresh it, or log in again); a cached token is the usual culprit."})
		} else {
			c.step(PhaseCredentials, "JWT exp", Pass, "valid for another "+humanDuration(exp.Sub(ref))+skewNote)
		}
	} else {
		c.step(PhaseCredentials, "JWT exp", Info, "no exp claim")
	}
	if nbf, ok := j.NumericDate("nbf"); ok && nbf.After(ref) {
		c.step(PhaseCredentials, "JWT nbf", Fail, "not valid for another "+humanDuration(nbf.Sub(ref))+skewNote)
		c.find(Finding{ID: "token.not_yet_valid", Title: "The token is not valid yet (clock skew?)", Confidence: 75, Phase: PhaseCredentials,
			Evidence: []string{"nbf " + nbf.UTC().Format(time.RFC3339) + ", now " + ref.UTC().Format(time.RFC3339) + skewNote},
			Fix:      "Sync the clocks (NTP) of the issuer and the server, or wait; servers usually allow 30–60 s of skew."})
	}
	if iat, ok := j.NumericDate("iat"); ok && iat.Sub(ref) > time.Minute {
		c.step(PhaseCredentials, "JWT iat", Warn, "issued "+humanDuration(iat.Sub(ref))+" in the future: the issuer's clock is ahead"+skewNote)
	}
	return j
}

// compareScopes relates a WWW-Authenticate scope demand to the token's.
func compareScopes(need, have []string) []string {
	hs := map[string]bool{}
	for _, h := range have {
		hs[h] = true
	}
	var missing []string
	for _, n := range need {
		if !hs[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return missing
}
