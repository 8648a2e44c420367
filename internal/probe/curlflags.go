package probe

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"
)

// ParseOptions controls side effects of parsing.
type ParseOptions struct {
	// ReadFile resolves @file arguments (--data-binary @file, -F f=@x,
	// -b jar). Nil refuses them: a pasted command or a fuzz input must not
	// make the parser read arbitrary local files.
	ReadFile func(name string) ([]byte, error)
}

// maxArgs bounds the work a hostile or broken input can cause.
const maxArgs = 10000

// ParseArgs parses curl-style arguments (what follows `pinpoint probe`,
// or the words of a pasted curl command) into a Request. It follows
// curl's own defaults where they matter for a diagnosis: -d implies POST
// and application/x-www-form-urlencoded, which is exactly how JSON ends up
// sent as a form.
func ParseArgs(args []string, opts ParseOptions) (*Request, error) {
	if len(args) > maxArgs {
		return nil, fmt.Errorf("too many arguments (%d)", len(args))
	}
	r := newRequest("flags")
	var (
		data      []string
		dataGiven bool
		forms     []formPart
		getMode   bool
		head      bool
		user      string
		jsonFlag  bool
	)
	next := func(i *int, flag string) (string, error) {
		if *i+1 >= len(args) {
			return "", fmt.Errorf("%s needs a value", flag)
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, inline, hasInline := a, "", false
		if strings.HasPrefix(a, "--") {
			if k, v, ok := strings.Cut(a, "="); ok && takesValue(k) {
				flag, inline, hasInline = k, v, true
			}
		} else if strings.HasPrefix(a, "-") && len(a) > 2 && takesValue(a[:2]) {
			// Short flags glued to their value: -XPOST, -H'X: y'.
			flag, inline, hasInline = a[:2], a[2:], true
		}
		val := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			return next(&i, flag)
		}
		var err error
		var v string
		switch flag {
		case "-X", "--request":
			if v, err = val(); err == nil {
				r.Method = strings.ToUpper(strings.TrimSpace(v))
			}
		case "-H", "--header":
			if v, err = val(); err == nil {
				err = addHeader(r, v, opts)
			}
		case "-d", "--data", "--data-ascii":
			if v, err = val(); err == nil {
				dataGiven = true
				var b []byte
				if b, err = readData(v, opts, true); err == nil {
					data = append(data, string(b))
				}
			}
		case "--data-binary":
			if v, err = val(); err == nil {
				dataGiven = true
				var b []byte
				if b, err = readData(v, opts, false); err == nil {
					data = append(data, string(b))
				}
			}
		case "--data-raw":
			if v, err = val(); err == nil {
				dataGiven = true
				data = append(data, v)
			}
		case "--data-urlencode":
			if v, err = val(); err == nil {
				dataGiven = true
				data = append(data, urlencodeData(v))
			}
		case "--json":
			if v, err = val(); err == nil {
				dataGiven, jsonFlag = true, true
				var b []byte
				if b, err = readData(v, opts, false); err == nil {
					data = append(data, string(b))
				}
			}
		case "-F", "--form", "--form-string":
			if v, err = val(); err == nil {
				var p formPart
				if p, err = parseFormPart(v, flag != "--form-string", opts); err == nil {
					forms = append(forms, p)
				}
			}
		case "-u", "--user":
			if v, err = val(); err == nil {
				user = v
			}
		case "-b", "--cookie":
			if v, err = val(); err == nil {
				err = addCookies(r, v, opts)
			}
		case "-A", "--user-agent":
			if v, err = val(); err == nil {
				r.Header.Set("User-Agent", v)
			}
		case "-e", "--referer":
			if v, err = val(); err == nil {
				r.Header.Set("Referer", v)
			}
		case "--url":
			if v, err = val(); err == nil {
				r.URL = v
			}
		case "-G", "--get":
			getMode = true
		case "-I", "--head":
			head = true
		case "-k", "--insecure":
			r.Insecure = true
		case "-L", "--location":
			r.FollowRedirects = true
		default:
			if strings.HasPrefix(a, "-") && len(a) > 1 {
				if takesValue(a) {
					// A flag we do not model but whose value must be
					// skipped, or the value would be taken as the URL.
					_, err = val()
				} else if !ignoredFlags[a] && !isShortCluster(a) {
					err = fmt.Errorf("unsupported curl option %q", a)
				}
				break
			}
			if r.URL == "" {
				r.URL = a
			} else {
				return nil, fmt.Errorf("more than one URL (%q and %q): probe diagnoses one request", r.URL, a)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if r.URL == "" {
		return nil, errors.New("no URL given")
	}
	if user != "" {
		if !strings.Contains(user, ":") {
			user += ":"
		}
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user)))
	}
	if len(forms) > 0 && dataGiven {
		return nil, errors.New("-F and -d cannot be combined (curl refuses it too)")
	}
	switch {
	case len(forms) > 0:
		body, ctype, err := buildMultipart(forms)
		if err != nil {
			return nil, err
		}
		r.Body = body
		if r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", ctype)
		}
		if r.Method == "" {
			r.Method = "POST"
		}
	case dataGiven && getMode:
		u := r.URL
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		r.URL = u + sep + strings.Join(data, "&")
	case dataGiven:
		r.Body = []byte(strings.Join(data, "&"))
		if r.Header.Get("Content-Type") == "" {
			if jsonFlag {
				r.Header.Set("Content-Type", "application/json")
			} else {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}
		if jsonFlag && r.Header.Get("Accept") == "" {
			r.Header.Set("Accept", "application/json")
		}
		if r.Method == "" {
			r.Method = "POST"
		}
	}
	if r.Method == "" {
		if head {
			r.Method = "HEAD"
		} else {
			r.Method = "GET"
		}
	}
	return r, nil
}

// valueFlags lists curl options that take a value; unknown ones in this
// set are skipped with their value.
var valueFlags = map[string]bool{
	"-X": true, "--request": true, "-H": true, "--header": true, "-d": true, "--data": true,
	"--data-ascii": true, "--data-binary": true, "--data-raw": true, "--data-urlencode": true,
	"--json": true, "-F": true, "--form": true, "--form-string": true, "-u": true, "--user": true,
	"-b": true, "--cookie": true, "-A": true, "--user-agent": true, "-e": true, "--referer": true,
	"--url": true, "-o": true, "--output": true, "-m": true, "--max-time": true, "--connect-timeout": true,
	"-x": true, "--proxy": true, "-c": true, "--cookie-jar": true, "--resolve": true, "--cacert": true,
	"--cert": true, "--key": true, "-w": true, "--write-out": true, "--retry": true, "-T": true,
	"--upload-file": true, "--interface": true, "--oauth2-bearer": true, "-E": true, "--limit-rate": true,
	"--max-redirs": true, "--proto": true, "--noproxy": true, "--aws-sigv4": true, "-r": true, "--range": true,
}

func takesValue(flag string) bool { return valueFlags[flag] }

// ignoredFlags change output or transport details that do not affect
// what the server decides; devtools' "Copy as cURL" adds several.
var ignoredFlags = map[string]bool{
	"--compressed": true, "-s": true, "--silent": true, "-S": true, "--show-error": true, "-v": true,
	"--verbose": true, "-i": true, "--include": true, "--http1.1": true, "--http2": true, "--http2-prior-knowledge": true,
	"-f": true, "--fail": true, "--fail-with-body": true, "-g": true, "--globoff": true, "-N": true, "--no-buffer": true,
	"-#": true, "--progress-bar": true, "-O": true, "--remote-name": true, "--location-trusted": true, "--ipv4": true,
	"-4": true, "-6": true, "--ipv6": true, "--tlsv1.2": true, "--tlsv1.3": true, "--path-as-is": true, "-j": true,
	"--junk-session-cookies": true, "--raw": true, "--tr-encoding": true, "--no-keepalive": true,
}

// isShortCluster accepts combined boolean short flags such as -sSL or -kv.
func isShortCluster(a string) bool {
	if len(a) < 3 || a[0] != '-' || a[1] == '-' {
		return false
	}
	for _, c := range a[1:] {
		if !strings.ContainsRune("sSvikLfgNI46j", c) {
			return false
		}
	}
	return true
}

func addHeader(r *Request, v string, opts ParseOptions) error {
	if strings.HasPrefix(v, "@") {
		b, err := readFile(v[1:], opts)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(line) != "" {
				if err := addHeader(r, strings.TrimRight(line, "\r"), ParseOptions{}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	name, value, ok := strings.Cut(v, ":")
	if !ok {
		// curl's "-H 'X-Foo;'" sends an empty header; "-H X-Foo" is ignored.
		if n, found := strings.CutSuffix(v, ";"); found {
			r.Header.Set(strings.TrimSpace(n), "")
		}
		return nil
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("malformed header %q", v)
	}
	// curl strips leading spaces of the value but keeps trailing ones, so
	// do we: a key pasted with a trailing newline or space must remain
	// visible to the Authorization check.
	value = strings.TrimLeft(value, " \t")
	if value == "" {
		// "-H 'Accept:'" removes a header in curl.
		r.Header.Del(name)
		return nil
	}
	ck := textproto.CanonicalMIMEHeaderKey(name)
	if ck == "Cookie" && r.Header.Get("Cookie") != "" {
		r.Header.Set("Cookie", r.Header.Get("Cookie")+"; "+value)
		return nil
	}
	r.Header.Add(ck, value)
	return nil
}

func readFile(name string, opts ParseOptions) ([]byte, error) {
	if opts.ReadFile == nil {
		return nil, fmt.Errorf("reading @%s: file arguments are not allowed here", name)
	}
	return opts.ReadFile(name)
}

// readData implements curl's @file rule for -d (strip CR/LF) and
// --data-binary (keep bytes as they are).
func readData(v string, opts ParseOptions, stripNewlines bool) ([]byte, error) {
	if !strings.HasPrefix(v, "@") {
		return []byte(v), nil
	}
	b, err := readFile(v[1:], opts)
	if err != nil {
		return nil, err
	}
	if stripNewlines {
		b = bytes.ReplaceAll(b, []byte("\r"), nil)
		b = bytes.ReplaceAll(b, []byte("\n"), nil)
	}
	return b, nil
}

// urlencodeData implements the common --data-urlencode forms: "content",
// "=content" and "name=content" (the @file forms are rare in pasted
// commands and are encoded literally).
func urlencodeData(v string) string {
	name, content, ok := strings.Cut(v, "=")
	if !ok {
		return url.QueryEscape(v)
	}
	if name == "" {
		return url.QueryEscape(content)
	}
	return name + "=" + url.QueryEscape(content)
}

func addCookies(r *Request, v string, opts ParseOptions) error {
	if !strings.Contains(v, "=") {
		// Without "=", curl reads a cookie file (Netscape format).
		b, err := readFile(v, opts)
		if err != nil {
			return err
		}
		var pairs []string
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimPrefix(strings.TrimRight(line, "\r"), "#HttpOnly_")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, "\t")
			if len(f) == 7 {
				pairs = append(pairs, f[5]+"="+f[6])
			}
		}
		v = strings.Join(pairs, "; ")
		if v == "" {
			return nil
		}
	}
	if old := r.Header.Get("Cookie"); old != "" {
		v = old + "; " + v
	}
	r.Header.Set("Cookie", v)
	return nil
}

type formPart struct {
	name, value, filename, ctype string
	file                         bool
}

// parseFormPart parses -F name=value, name=@file[;type=x] and name=<file.
func parseFormPart(v string, special bool, opts ParseOptions) (formPart, error) {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return formPart{}, fmt.Errorf("-F %q: want name=value", v)
	}
	p := formPart{name: name, value: value}
	if !special {
		return p, nil
	}
	if strings.HasPrefix(value, "@") || strings.HasPrefix(value, "<") {
		spec := value[1:]
		fname, params, _ := strings.Cut(spec, ";")
		for _, kv := range strings.Split(params, ";") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(kv), "type="); ok {
				p.ctype = t
			}
		}
		b, err := readFile(fname, opts)
		if err != nil {
			return formPart{}, err
		}
		p.value = string(b)
		if value[0] == '@' {
			p.file = true
			p.filename = fname
			if i := strings.LastIndexAny(fname, `/\`); i >= 0 {
				p.filename = fname[i+1:]
			}
		}
	}
	return p, nil
}

func buildMultipart(parts []formPart) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.file {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
			if p.ctype == "" {
				p.ctype = "application/octet-stream"
			}
		}
		h.Set("Content-Disposition", disp)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		_, _ = pw.Write([]byte(p.value))
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}
