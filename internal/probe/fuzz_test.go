package probe

import (
	"testing"
)

// FuzzParseCurl: the parsers must never panic or hang, whatever is
// pasted. Seeds are the table tests' commands.
func FuzzParseCurl(f *testing.F) {
	for _, tc := range curlCases {
		f.Add(tc.cmd)
	}
	f.Add("curl ^\"a^\n\n^\" ^")
	f.Add("curl $'\\x")
	f.Fuzz(func(t *testing.T, cmd string) {
		r, err := ParseCurl(cmd, ParseOptions{})
		if err == nil && (r == nil || r.URL == "" || r.Method == "") {
			t.Fatalf("nil error but incomplete request: %+v", r)
		}
		if err == nil {
			c := &collector{}
			checkRequest(c, r)
			_ = replayVariations(r)
			_ = showRequest(r)
		}
	})
}

// FuzzParseHAR: arbitrary JSON (and non-JSON) never panics, and a
// returned request always has a response to analyse.
func FuzzParseHAR(f *testing.F) {
	// A small Chromium-shaped entry: the full testdata/chromium.har seed
	// made coverage-guided fuzzing stall in the engine (30k execs/s
	// without coverage, none with it), so the seed stays small.
	f.Add([]byte(`{"log":{"creator":{"name":"WebInspector"},"entries":[{"request":{"method":"POST","url":"https://a.test/x","headers":[{"name":":authority","value":"a.test"},{"name":"cookie","value":"csrftoken=t"},{"name":"x-csrftoken","value":"t"}],"postData":{"mimeType":"application/json","text":"{}"}},"response":{"status":403,"headers":[{"name":"server","value":"cloudflare"}],"content":{"mimeType":"text/plain","text":"ZXJyb3IgY29kZTogMTAyMA==","encoding":"base64"}}}]}}`), 0)
	f.Add([]byte(`{"log":{"entries":[{"request":{"method":"POST","url":"x","postData":{"params":[{"name":"a","value":"b"}]}},"response":{"status":0,"_error":"net::ERR_FAILED"}}]}}`), 0)
	f.Add([]byte(`{"log":{"entries":[]}}`), 1)
	f.Add([]byte(`[]`), -1)
	f.Fuzz(func(t *testing.T, data []byte, entry int) {
		req, resp, _, err := ParseHAR(data, entry)
		if err != nil {
			return
		}
		if req == nil || resp == nil {
			t.Fatal("nil request or response without an error")
		}
		c := &collector{}
		checkRequest(c, req)
		analyseResponse(c, req, resp, nil)
	})
}

// FuzzParseRawResponse covers --response files and fixture parsing.
func FuzzParseRawResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nServer: nginx\r\n\r\n<center>nginx</center>"))
	f.Add([]byte("# source: x\nHTTP/1.1 100 Continue\n\nHTTP/2 429\nretry-after: 5\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _, err := ParseRawResponse(data)
		if err == nil {
			_ = MatchFingerprints(r)
			_, _ = ParsePinpointProblem(r)
			_ = ParseWWWAuthenticate(r.Header.Values("Www-Authenticate"))
		}
	})
}
