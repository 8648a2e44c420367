// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

package transformations

import (
	"unicode"
	"unicode/utf8"

	utils "github.com/corazawaf/coraza/v3/internal/strings"
)

// removeWhitespace removes all whitespace characters from input.
func removeWhitespace(data string) (string, bool, error) {
	if s, ok := removeASCIIWhitespace(data); ok {
		return s, len(s) != len(data), nil
	}
	transformedData, changed := removeRuneWhitespace(data)
	return transformedData, changed, nil
}

// removeRuneWhitespace is what strings.Map with a mapping that drops the
// runes unicode.IsSpace accepts returns (including its writing U+FFFD
// for each byte of invalid UTF-8), without a call per rune: values of
// decoded binary data go through here. changed reports a dropped rune.
func removeRuneWhitespace(data string) (string, bool) {
	// strings.Map returns data itself while no rune changes; an invalid
	// byte is the first change even when no space follows.
	first := -1
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if asciiSpace[c] {
				first = i
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(data[i:])
		if r == utf8.RuneError && size == 1 || unicode.IsSpace(r) {
			first = i
			break
		}
		i += size
	}
	if first < 0 {
		return data, false
	}
	changed := false
	out := make([]byte, first, len(data)+utf8.UTFMax)
	copy(out, data[:first])
	for i := first; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if asciiSpace[c] {
				changed = true
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = utf8.AppendRune(out, utf8.RuneError)
		case unicode.IsSpace(r):
			changed = true
		default:
			out = append(out, data[i:i+size]...)
		}
		i += size
	}
	return utils.WrapUnsafe(out), changed
}

// removeASCIIWhitespace is removeWhitespace for ASCII input (ok is false
// for any other input): byte by byte, without strings.Map's rune decoding.
// The ASCII runes unicode.IsSpace accepts are \t, \n, \v, \f, \r and space.
func removeASCIIWhitespace(data string) (string, bool) {
	spaces := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		if asciiSpace[c] {
			spaces++
		}
	}
	if spaces == 0 {
		return data, true
	}
	out := make([]byte, 0, len(data)-spaces)
	for i := 0; i < len(data); i++ {
		if c := data[i]; !asciiSpace[c] {
			out = append(out, c)
		}
	}
	return utils.WrapUnsafe(out), true
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}
