package httpfield

import "net/textproto"

// TokenByte holds the bytes of an RFC 9110 token (a field name, a method).
var TokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// IsToken reports whether s is a non-empty RFC 9110 token.
func IsToken[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if !TokenByte[s[i]] {
			return false
		}
	}
	return len(s) > 0
}

// CanonicalKey is textproto.CanonicalMIMEHeaderKey for a key made of
// token bytes, without its copy when the key is canonical already (as
// nearly every client and upstream sends it).
func CanonicalKey(k string) string {
	upper := true
	for i := 0; i < len(k); i++ {
		b := k[i]
		if upper && 'a' <= b && b <= 'z' || !upper && 'A' <= b && b <= 'Z' {
			return textproto.CanonicalMIMEHeaderKey(k)
		}
		upper = b == '-'
	}
	return k
}

// TrimOWS trims the optional white space (spaces and tabs) around a
// field value; unlike textproto.TrimString it leaves CR and LF, which a
// parser must refuse, not drop.
func TrimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// ValidValue reports whether v holds only bytes a field value may
// (visible ASCII, space, tab and obs-text), as net/http checks.
func ValidValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
