package verdict

import (
	"fmt"
	"strings"
)

// Markdown renders the catalog as docs/denials.md. The file is generated:
// `go test ./internal/verdict -update` rewrites it, and the test fails when
// the catalog and the file drift apart.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Denial catalog\n\n")
	b.WriteString("<!-- Generated from internal/verdict/catalog.go by `go test ./internal/verdict -update`. Do not edit. -->\n\n")
	b.WriteString("Every response the gateway makes itself is an RFC 9457 problem (`application/problem+json`, or\n")
	b.WriteString("OpenAI's error envelope on AI routes) with `type`, `title`, `status`, `detail`, `instance`,\n")
	b.WriteString("`request_id`, `layer`, `code`, `rule` (when a rule decided) and `hint`, and the headers\n")
	b.WriteString("`Pinpoint-Request-Id` and `Pinpoint-Denied-By: gateway`. A denial the upstream makes itself is passed\n")
	b.WriteString("through untouched and marked `Pinpoint-Denied-By: upstream`. The `type` of each code is\n")
	b.WriteString("`" + TypePrefix + "<code>`, a page the gateway serves. `pinpoint explain <request_id>` tells the whole story.\n\n")
	b.WriteString("| code | layer | status | title |\n|---|---|---|---|\n")
	for _, e := range catalog {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %d | %s |\n", e.Code, e.Code, e.Layer, e.Status, e.Title)
	}
	layer := ""
	for _, e := range catalog {
		if e.Layer != layer {
			layer = e.Layer
			fmt.Fprintf(&b, "\n## Layer `%s`\n", layer)
		}
		fmt.Fprintf(&b, "\n### %s\n\n**%d — %s.** %s\n\nCommon causes:\n\n", e.Code, e.Status, e.Title, e.Meaning)
		for _, c := range e.Causes {
			fmt.Fprintf(&b, "- %s\n", c)
		}
		fmt.Fprintf(&b, "\nFix: %s\n", e.Fix)
		if hs := AnswerHeaders(e.Code); len(hs) > 0 {
			fmt.Fprintf(&b, "\nResponse headers: `%s`.\n", strings.Join(hs, "`, `"))
		}
	}
	return b.String()
}
