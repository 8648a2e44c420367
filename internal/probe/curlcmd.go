package probe

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxCommandLen bounds a pasted command; devtools commands with large
// bodies are a few hundred KiB at most.
const maxCommandLen = 8 << 20

// ParseCurl parses a pasted curl command, as browser devtools' "Copy as
// cURL" gives it, in bash or Windows cmd quoting (detected from the
// text: cmd copies escape with ^).
func ParseCurl(cmd string, opts ParseOptions) (*Request, error) {
	if len(cmd) > maxCommandLen {
		return nil, errors.New("curl command too long")
	}
	var words []string
	var err error
	if isCmdQuoting(cmd) {
		words, err = splitCmd(cmd)
	} else {
		words, err = splitBash(cmd)
	}
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errors.New("empty curl command")
	}
	first := strings.ToLower(words[0])
	if first != "curl" && first != "curl.exe" && !strings.HasSuffix(first, "/curl") && !strings.HasSuffix(first, `\curl.exe`) {
		return nil, fmt.Errorf("not a curl command (starts with %q)", words[0])
	}
	r, err := ParseArgs(words[1:], opts)
	if err != nil {
		return nil, err
	}
	r.Source = "curl"
	return r, nil
}

// isCmdQuoting detects Windows cmd quoting: Chromium's "Copy as cURL
// (cmd)" wraps every argument in ^"…^" and ends lines with ^.
func isCmdQuoting(s string) bool {
	return strings.Contains(s, `^"`) || strings.Contains(s, "^\n") || strings.Contains(s, "^\r\n")
}

// splitBash splits a command the way bash would for the subset that
// copied commands use: '…', "…", $'…', backslash escapes and
// continuations. Expansion ($VAR, $(…)) is not performed: the text is
// taken literally, since running it is exactly what we must not do.
// Words stop at an unquoted |, ;, & or > so "curl … | jq ." works.
func splitBash(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
			i++
		case c == '|' || c == ';' || c == '&' || c == '>' || c == '<':
			flush()
			return words, nil
		case c == '#' && !inWord:
			// A comment runs to the end of the line.
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\\':
			if i+1 < len(s) && s[i+1] == '\n' {
				i += 2
				continue
			}
			if i+2 < len(s) && s[i+1] == '\r' && s[i+2] == '\n' {
				i += 3
				continue
			}
			inWord = true
			if i+1 < len(s) {
				cur.WriteByte(s[i+1])
				i += 2
			} else {
				i++
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '$' && i+1 < len(s) && s[i+1] == '\'':
			inWord = true
			n, err := ansiC(s[i+2:], &cur)
			if err != nil {
				return nil, err
			}
			i += 2 + n
		case c == '"':
			inWord = true
			i++
			closed := false
			for i < len(s) {
				d := s[i]
				if d == '"' {
					closed = true
					i++
					break
				}
				if d == '\\' && i+1 < len(s) {
					e := s[i+1]
					switch e {
					case '"', '\\', '$', '`':
						cur.WriteByte(e)
						i += 2
						continue
					case '\n':
						i += 2
						continue
					}
				}
				cur.WriteByte(d)
				i++
			}
			if !closed {
				return nil, errors.New("unterminated double quote")
			}
		default:
			inWord = true
			cur.WriteByte(c)
			i++
		}
	}
	flush()
	return words, nil
}

// ansiC decodes the body of a $'…' string (Chromium uses it for bodies
// with newlines or non-ASCII) and returns the bytes consumed including
// the closing quote.
func ansiC(s string, out *strings.Builder) (int, error) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\'' {
			return i + 1, nil
		}
		if c != '\\' || i+1 >= len(s) {
			out.WriteByte(c)
			i++
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'n':
			out.WriteByte('\n')
		case 't':
			out.WriteByte('\t')
		case 'r':
			out.WriteByte('\r')
		case 'a':
			out.WriteByte('\a')
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'v':
			out.WriteByte('\v')
		case 'e', 'E':
			out.WriteByte(0x1b)
		case '\\', '\'', '"', '?':
			out.WriteByte(e)
		case 'x', 'u', 'U':
			max := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			j := 0
			for j < max && i+j < len(s) && isHex(s[i+j]) {
				j++
			}
			if j == 0 {
				out.WriteByte('\\')
				out.WriteByte(e)
				continue
			}
			n, _ := strconv.ParseUint(s[i:i+j], 16, 32)
			if e == 'x' {
				out.WriteByte(byte(n))
			} else if n <= utf8.MaxRune {
				out.WriteRune(rune(n))
			}
			i += j
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := 0
			for j < 3 && i-1+j < len(s) && s[i-1+j] >= '0' && s[i-1+j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(s[i-1:i-1+j], 8, 16)
			out.WriteByte(byte(n))
			i += j - 1
		default:
			out.WriteByte('\\')
			out.WriteByte(e)
		}
	}
	return 0, errors.New("unterminated $'…' string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// splitCmd undoes the two layers of Windows quoting. First cmd.exe: ^
// escapes the next character outside double quotes, and ^ at the end of
// a line joins the next line, taking its first character literally
// (Chromium writes a newline inside a value as ^ + two newlines). Then
// the C runtime splits the result into argv: " toggles quoting, \"
// is a literal quote and backslashes double before a quote.
func splitCmd(s string) ([]string, error) {
	var line strings.Builder
	// literal marks bytes that cmd escaped; an escaped newline must stay
	// a character of the argument instead of ending the word.
	var literal []bool
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			inQuote = !inQuote
			line.WriteByte(c)
			literal = append(literal, false)
			continue
		}
		if c == '^' && !inQuote && i+1 < len(s) {
			n := s[i+1]
			if n == '\r' && i+2 < len(s) && s[i+2] == '\n' {
				i++
				n = '\n'
			}
			if n == '\n' {
				i++
				// The first character of the next line is literal.
				if i+1 < len(s) {
					if s[i+1] == '\r' && i+2 < len(s) && s[i+2] == '\n' {
						i++
					}
					i++
					line.WriteByte(s[i])
					literal = append(literal, s[i] == '\n')
				}
				continue
			}
			i++
			line.WriteByte(s[i])
			literal = append(literal, s[i] == '"' || s[i] == '\n')
			continue
		}
		if (c == '|' || c == '&' || c == '>' || c == '<') && !inQuote {
			break
		}
		line.WriteByte(c)
		literal = append(literal, false)
	}
	return splitMSVCRT(line.String(), literal), nil
}

// splitMSVCRT implements the C runtime's argv rules. A quote that cmd
// escaped (^") still counts as a quote for the runtime, which is why
// Chromium's ^"…^" works; literal only protects escaped newlines.
func splitMSVCRT(s string, literal []bool) []string {
	var words []string
	var cur strings.Builder
	inWord, inQuote := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			j := i
			for j < len(s) && s[j] == '\\' {
				j++
			}
			n := j - i
			inWord = true
			if j < len(s) && s[j] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					i = j
				} else {
					i = j - 1
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
				i = j - 1
			}
		case c == '"':
			inWord = true
			if inQuote && i+1 < len(s) && s[i+1] == '"' {
				// "" inside quotes is a literal quote.
				cur.WriteByte('"')
				i++
				continue
			}
			inQuote = !inQuote
		case (c == ' ' || c == '\t' || c == '\n' || c == '\r') && !inQuote && !(i < len(literal) && literal[i]):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
