package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// TokenFile is where serve and demo write a generated admin token, so the
// CLI on the same machine finds it without flags.
func TokenFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "pinpoint", "admin-token")
}

// URLFile is where serve and demo write the admin API's address.
func URLFile() string { return filepath.Join(filepath.Dir(TokenFile()), "admin-url") }

// adminClient talks to the admin API.
type adminClient struct {
	base  string
	token string
	hc    *http.Client
}

func newAdminClient(cmd *cobra.Command) *adminClient {
	base, _ := cmd.Flags().GetString("admin")
	if base == "" {
		base = os.Getenv("PINPOINT_ADMIN_URL")
	}
	if base == "" {
		if b, err := os.ReadFile(URLFile()); err == nil {
			base = strings.TrimSpace(string(b))
		}
	}
	if base == "" {
		base = "http://127.0.0.1:9901"
	}
	tok, _ := cmd.Flags().GetString("admin-token")
	if tok == "" {
		tok = os.Getenv("PINPOINT_ADMIN_TOKEN")
	}
	if tok == "" {
		if b, err := os.ReadFile(TokenFile()); err == nil {
			tok = strings.TrimSpace(string(b))
		}
	}
	return &adminClient{base: strings.TrimRight(base, "/"), token: tok, hc: &http.Client{Timeout: 30 * time.Second}}
}

// apiError is an error answer of the admin API.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("admin API: %s (%d %s)", e.Message, e.Status, e.Code)
}

// do sends a JSON request and decodes a JSON answer into out (if non-nil).
func (c *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if u := os.Getenv("USER"); u != "" {
		req.Header.Set("Pinpoint-Actor", "cli:"+u)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the admin API at %s (is the gateway running? set --admin): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Code != "" {
			return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
		}
		return &apiError{Status: resp.StatusCode, Code: "http_error", Message: strings.TrimSpace(string(data))}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = data
		return nil
	}
	return json.Unmarshal(data, out)
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printTable writes an aligned table.
func printTable(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}
