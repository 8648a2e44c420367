package probe

import (
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
)

type parseCase struct {
	name    string
	cmd     string
	method  string
	url     string
	headers map[string]string
	body    string
	wantErr bool
}

// curlCases are also the seeds of FuzzParseCurl.
var curlCases = []parseCase{
	{name: "bash simple", cmd: `curl 'https://api.example.com/v1/orders' -X POST -H 'Content-Type: application/json' --data-raw '{"a":1}'`,
		method: "POST", url: "https://api.example.com/v1/orders", headers: map[string]string{"Content-Type": "application/json"}, body: `{"a":1}`},
	{name: "chromium bash with cookies and continuation", cmd: "curl 'https://app.example.com/api/save' \\\n  -H 'accept: */*' \\\n  -H 'origin: https://app.example.com' \\\n  -b 'csrftoken=abc; sessionid=xyz' \\\n  --data-raw 'name=a&csrfmiddlewaretoken=t' \\\n  --compressed",
		method: "POST", url: "https://app.example.com/api/save", headers: map[string]string{"Origin": "https://app.example.com", "Cookie": "csrftoken=abc; sessionid=xyz", "Content-Type": "application/x-www-form-urlencoded"}, body: "name=a&csrfmiddlewaretoken=t"},
	{name: "ansi-c quoting", cmd: `curl https://x.test/p --data-raw $'{"t":"a\nb","q":"it\'s"}' -H $'X-A: \u00e9'`,
		method: "POST", url: "https://x.test/p", headers: map[string]string{"X-A": "é"}, body: "{\"t\":\"a\nb\",\"q\":\"it's\"}"},
	{name: "double quotes with escapes", cmd: `curl -X PUT "https://x.test/p" -d "{\"a\":\"\$HOME\"}"`,
		method: "PUT", url: "https://x.test/p", body: `{"a":"$HOME"}`},
	{name: "pipe ends the command", cmd: `curl -s https://x.test/p | jq .`, method: "GET", url: "https://x.test/p"},
	{name: "glued short flags and user", cmd: `curl -XPOST -uuser:pw https://x.test/p -d a=1`,
		method: "POST", url: "https://x.test/p", headers: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pw"))}, body: "a=1"},
	{name: "json flag", cmd: `curl --json '{"a":1}' https://x.test/p`, method: "POST", url: "https://x.test/p",
		headers: map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, body: `{"a":1}`},
	{name: "get mode moves data to query", cmd: `curl -G https://x.test/p -d a=1 -d b=2`, method: "GET", url: "https://x.test/p?a=1&b=2"},
	{name: "windows cmd chromium", cmd: "curl ^\"https://api.example.com/v1/orders^\" ^\n  -H ^\"content-type: application/json^\" ^\n  -H ^\"authorization: Bearer abc.def^\" ^\n  --data-raw ^\"^{^\\^\"name^\\^\":^\\^\"a b^\\^\"^}^\"",
		method: "POST", url: "https://api.example.com/v1/orders", headers: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer abc.def"}, body: `{"name":"a b"}`},
	{name: "windows cmd percent and newline", cmd: "curl ^\"https://x.test/p?q=100^%^25^\" --data-raw ^\"line1^\n\nline2^\"",
		method: "POST", url: "https://x.test/p?q=100%25", body: "line1\nline2"},
	{name: "windows hand written", cmd: `curl.exe -X POST "https://x.test/p" -H "Content-Type: application/json" -d "{\"a\":1}"`,
		method: "POST", url: "https://x.test/p", headers: map[string]string{"Content-Type": "application/json"}, body: `{"a":1}`},
	{name: "not curl", cmd: `wget https://x.test`, wantErr: true},
	{name: "unterminated quote", cmd: `curl 'https://x.test`, wantErr: true},
	{name: "file argument refused without reader", cmd: `curl https://x.test -d @/etc/passwd`, wantErr: true},
	{name: "no url", cmd: `curl -X POST`, wantErr: true},
	{name: "unknown option", cmd: `curl --frobnicate https://x.test`, wantErr: true},
}

func TestParseCurl(t *testing.T) {
	for _, tc := range curlCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseCurl(tc.cmd, ParseOptions{})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want error, got %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkParsed(t, r, tc)
		})
	}
}

func checkParsed(t *testing.T, r *Request, tc parseCase) {
	t.Helper()
	if r.Method != tc.method || r.URL != tc.url {
		t.Errorf("got %s %s, want %s %s", r.Method, r.URL, tc.method, tc.url)
	}
	for k, v := range tc.headers {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if string(r.Body) != tc.body {
		t.Errorf("body = %q, want %q", r.Body, tc.body)
	}
}

func TestParseArgsFiles(t *testing.T) {
	files := map[string]string{
		"body.json": "{\"a\":\n1}\n",
		"jar.txt":   "# Netscape HTTP Cookie File\nexample.com\tFALSE\t/\tTRUE\t0\tsessionid\ts3cr3t\n#HttpOnly_example.com\tFALSE\t/\tTRUE\t0\tcsrftoken\ttok\n",
		"up.png":    "PNGDATA",
	}
	read := func(n string) ([]byte, error) {
		if v, ok := files[n]; ok {
			return []byte(v), nil
		}
		return nil, os.ErrNotExist
	}
	r, err := ParseArgs([]string{"https://x.test/u", "--data-binary", "@body.json", "-b", "jar.txt", "-H", "Content-Type: application/json"}, ParseOptions{ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Body) != files["body.json"] {
		t.Errorf("--data-binary must keep newlines: %q", r.Body)
	}
	if c := r.Header.Get("Cookie"); c != "sessionid=s3cr3t; csrftoken=tok" {
		t.Errorf("cookie jar: %q", c)
	}
	r, err = ParseArgs([]string{"https://x.test/u", "-d", "@body.json"}, ParseOptions{ReadFile: read})
	if err != nil || string(r.Body) != `{"a":1}` {
		t.Errorf("-d @file strips newlines: %q %v", r.Body, err)
	}
	r, err = ParseArgs([]string{"-F", "file=@up.png;type=image/png", "-F", "title=hi", "https://x.test/u"}, ParseOptions{ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "multipart/form-data; boundary=") || r.Method != "POST" {
		t.Fatalf("multipart: %s %s", r.Method, ct)
	}
	for _, want := range []string{`filename="up.png"`, "Content-Type: image/png", "PNGDATA", `name="title"`} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("multipart body lacks %q", want)
		}
	}
	if _, err := ParseArgs([]string{"-F", "a=1", "-d", "b=2", "https://x.test"}, ParseOptions{}); err == nil {
		t.Error("-F with -d must be refused")
	}
}

func TestParseHARChromium(t *testing.T) {
	data, err := os.ReadFile("testdata/chromium.har")
	if err != nil {
		t.Fatal(err)
	}
	req, resp, list, err := ParseHAR(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 {
		t.Fatalf("entries = %d", len(list))
	}
	// The failing POST is picked, not the later failing GET or the OPTIONS.
	if req.Method != "POST" || req.URL != "https://app.example.com/api/orders" {
		t.Fatalf("picked %s %s", req.Method, req.URL)
	}
	if req.Header.Get(":authority") != "" || req.Header.Get("X-Csrftoken") != "tok123" {
		t.Errorf("headers: %v", req.Header)
	}
	if req.Header.Get("Cookie") != "csrftoken=tok123; sessionid=abc" {
		t.Errorf("cookie: %q", req.Header.Get("Cookie"))
	}
	if string(req.Body) != `{"item":1}` {
		t.Errorf("body %q", req.Body)
	}
	if resp.Status != 403 || !strings.Contains(string(resp.Body), "CSRF verification failed") {
		t.Errorf("response %d %q", resp.Status, resp.Body)
	}
	req, resp, _, err = ParseHAR(data, 4)
	if err != nil || req.Method != "GET" || resp.Status != 500 || string(resp.Body) != "boom" {
		t.Fatalf("entry 4 (base64 body): %v %+v", err, resp)
	}
	if _, _, _, err := ParseHAR(data, 9); err == nil {
		t.Error("out-of-range entry accepted")
	}
	if _, _, _, err := ParseHAR([]byte(`{"log":{"entries":[{"request":{"method":"GET","url":"https://x"},"response":{"status":200}}]}}`), 0); err == nil {
		t.Error("a HAR without a failing entry must ask for --entry")
	}
}

func TestParseRawResponse(t *testing.T) {
	raw := "# source: test\nHTTP/1.1 100 Continue\n\nHTTP/2 403\ncontent-type: text/plain\nserver: x\n\nerror code: 1020"
	r, meta, err := ParseRawResponse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 403 || r.Header.Get("Server") != "x" || string(r.Body) != "error code: 1020" || meta["source"] != "test" {
		t.Fatalf("%+v %v", r, meta)
	}
	if _, _, err := ParseRawResponse([]byte("garbage")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestSplitFlags(t *testing.T) {
	o, err := SplitFlags([]string{"--yes", "-X", "POST", "--log", "a.log", "--allow-replay=3", "https://x.test", "-H", "A: b", "--log", "b.log", "--json"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Yes || !o.JSON || o.AllowReplay != 3 || len(o.LogFiles) != 2 || strings.Join(o.Args, " ") != "-X POST https://x.test -H A: b" {
		t.Fatalf("%+v", o)
	}
	if _, err := SplitFlags([]string{"--allow-replay", "-1"}); err == nil {
		t.Error("negative budget accepted")
	}
	if _, err := SplitFlags([]string{"-h"}); !errors.Is(err, ErrHelp) {
		t.Error("-h is help")
	}
}
