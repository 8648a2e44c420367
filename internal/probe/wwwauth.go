package probe

import (
	"strings"
)

// Challenge is one WWW-Authenticate challenge (RFC 9110 §11.6.1,
// RFC 6750 §3 for Bearer's error and scope parameters).
type Challenge struct {
	Scheme string            `json:"scheme"`
	Params map[string]string `json:"params,omitempty"`
}

// ParseWWWAuthenticate parses challenges. Several challenges may share a
// header, separated by commas like the parameters, so a new challenge
// starts at a token not followed by "=".
func ParseWWWAuthenticate(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		s := v
		var cur *Challenge
		for len(s) > 0 && len(out) < 64 {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			tok := s
			end := strings.IndexAny(s, " \t,=")
			if end >= 0 {
				tok = s[:end]
			}
			if tok == "" {
				// A stray "=" or quote; skip one byte so we always advance.
				s = s[1:]
				continue
			}
			rest := s[len(tok):]
			trimmed := strings.TrimLeft(rest, " \t")
			if strings.HasPrefix(trimmed, "=") && cur != nil && !strings.HasPrefix(trimmed, "==") {
				val, after := parseParamValue(strings.TrimLeft(trimmed[1:], " \t"))
				cur.Params[strings.ToLower(tok)] = val
				s = after
				continue
			}
			if strings.HasPrefix(trimmed, "=") && cur != nil {
				// token68 (e.g. Negotiate abc==): keep it as the value.
				cur.Params["token68"] = strings.TrimSpace(tok + trimmed)
				break
			}
			out = append(out, Challenge{Scheme: tok, Params: map[string]string{}})
			cur = &out[len(out)-1]
			s = rest
		}
	}
	return out
}

func parseParamValue(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), s[i+1:]
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String(), ""
	}
	end := strings.IndexAny(s, ", \t")
	if end < 0 {
		return s, ""
	}
	return s[:end], s[end:]
}

// checkWWWAuthenticate explains a challenge, naming missing scopes by
// comparing the demanded scope with the token's.
func checkWWWAuthenticate(c *collector, resp *Response, tok *JWT) {
	chs := ParseWWWAuthenticate(resp.Header.Values("Www-Authenticate"))
	if len(chs) == 0 {
		if resp.Status == 401 {
			c.step(PhaseCredentials, "WWW-Authenticate", Warn, "401 without a challenge (RFC 9110 requires one)")
		}
		return
	}
	for _, ch := range chs {
		errCode := ch.Params["error"]
		desc := ch.Params["error_description"]
		detail := ch.Scheme
		if realm := ch.Params["realm"]; realm != "" {
			detail += " realm=" + realm
		}
		if errCode != "" {
			detail += " error=" + errCode
		}
		if desc != "" {
			detail += " (" + desc + ")"
		}
		switch errCode {
		case "insufficient_scope":
			need := strings.Fields(ch.Params["scope"])
			var have []string
			if tok != nil {
				have = tok.Scopes()
			}
			missing := compareScopes(need, have)
			title := "The token lacks a required scope"
			ev := []string{"WWW-Authenticate: " + detail}
			if len(missing) > 0 {
				title = "The token lacks scope " + strings.Join(missing, " ")
				ev = append(ev, "required: "+strings.Join(need, " "))
			}
			if tok != nil {
				ev = append(ev, "token has: "+strings.Join(have, " "))
			}
			c.step(PhaseCredentials, "WWW-Authenticate", Fail, detail)
			c.find(Finding{ID: "token.insufficient_scope", Title: title, Confidence: 92, Phase: PhaseCredentials, Evidence: ev,
				Fix: "Request a token with the missing scope (add it to the scope parameter of the token request, and grant it to the client)."})
		case "invalid_token":
			c.step(PhaseCredentials, "WWW-Authenticate", Fail, detail)
			title := "The server rejected the token as invalid"
			if strings.Contains(strings.ToLower(desc), "expired") {
				title = "The server says the token expired"
			}
			c.find(Finding{ID: "token.invalid", Title: title, Confidence: 85, Phase: PhaseCredentials,
				Evidence: []string{"WWW-Authenticate: " + detail},
				Fix:      "Get a fresh token from the right issuer for this API (check iss/aud in the checklist)."})
		case "invalid_request":
			c.step(PhaseCredentials, "WWW-Authenticate", Fail, detail)
			c.find(Finding{ID: "token.invalid_request", Title: "The server could not read the credentials", Confidence: 75, Phase: PhaseCredentials,
				Evidence: []string{"WWW-Authenticate: " + detail}, Fix: "Send the token once, in Authorization: Bearer <token>, not in the query or body."})
		default:
			c.step(PhaseCredentials, "WWW-Authenticate", Info, detail)
			if resp.Status == 401 {
				c.find(Finding{ID: "auth.challenge", Title: "The server wants " + ch.Scheme + " credentials", Confidence: 60, Phase: PhaseCredentials,
					Evidence: []string{"401 with WWW-Authenticate: " + detail},
					Fix:      "Send credentials with the " + ch.Scheme + " scheme (curl -u for Basic, -H 'Authorization: Bearer …' for Bearer)."})
			}
		}
	}
}
