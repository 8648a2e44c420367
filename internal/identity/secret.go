package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// KeyPrefix starts every key the gateway issues, so a key is recognisable
// in a config file, a log line or a secret scanner.
const KeyPrefix = "pp_"

// SecretLen is the length of the secret part of an issued key: 32 random
// bytes in unpadded lowercase base32.
const SecretLen = 52

// maxKeyIDLen bounds key ids (issued ones are 12 characters).
const maxKeyIDLen = 64

var lowerB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKey issues a key: a public id and a 256-bit secret, returned as the
// full key "pp_<id>_<secret>" (shown once) and the hash to store.
func NewKey() (id, key, hash string, err error) {
	idb := make([]byte, 8)
	sec := make([]byte, 32)
	if _, err = rand.Read(idb); err != nil {
		return "", "", "", err
	}
	if _, err = rand.Read(sec); err != nil {
		return "", "", "", err
	}
	id = lowerB32.EncodeToString(idb)[:12]
	secret := lowerB32.EncodeToString(sec)
	return id, KeyPrefix + id + "_" + secret, HashKeySecret(secret), nil
}

// HashKeySecret returns the stored form of a key's secret,
// "sha256:<hex>".
//
// Why SHA-256 and not bcrypt: a key secret is 256 bits from a CSPRNG, so
// there is nothing to brute-force and a slow hash buys no safety; it would
// only cost milliseconds per request. A plain (unpeppered) hash also keeps
// hashes portable, so `pinpoint keys hash` output pasted into a config file
// works on every node. Passwords, which are guessable, use bcrypt instead
// (HashPassword).
func HashKeySecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// SecretMatches compares a presented secret with a stored hash in constant
// time.
func SecretMatches(secret, hash string) bool {
	want, ok := strings.CutPrefix(hash, "sha256:")
	if !ok || len(want) != 64 {
		return false
	}
	var wantB [32]byte
	if _, err := hex.Decode(wantB[:], []byte(want)); err != nil {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], wantB[:]) == 1
}

// ValidKeyHash reports whether s has the stored hash form.
func ValidKeyHash(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// KeyError says why a presented credential is not a well-formed key. Its
// message is safe for the caller: it describes only the caller's own input.
type KeyError struct{ Msg string }

func (e *KeyError) Error() string { return e.Msg }

// ParseKey splits "pp_<id>_<secret>" and checks its shape.
func ParseKey(key string) (id, secret string, err error) {
	if strings.TrimSpace(key) != key || strings.ContainsAny(key, " \t\r\n\"'") {
		return "", "", &KeyError{"the key contains whitespace or quotes; copy it without them"}
	}
	rest, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok {
		return "", "", &KeyError{"a key issued by this gateway starts with pp_"}
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || id == "" {
		return "", "", &KeyError{"a key has the form pp_<id>_<secret>; this one has no secret part"}
	}
	if !ValidKeyID(id) {
		return "", "", &KeyError{"the key id part contains characters a key id never has"}
	}
	if len(secret) != SecretLen {
		return "", "", &KeyError{fmt.Sprintf("the secret part has %d characters, an issued key has %d; the key may be truncated", len(secret), SecretLen)}
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", "", &KeyError{"the secret part contains characters an issued key never has"}
		}
	}
	return id, secret, nil
}

// ValidKeyID reports whether id may name a key: 1–64 of [a-z0-9-].
func ValidKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// PasswordCost is the bcrypt cost for Basic-auth passwords. Passwords are
// chosen by people and guessable, so unlike key secrets they get a slow
// hash; the authn layer caches verified credentials so the cost is paid
// once per credential, not once per request.
const PasswordCost = bcrypt.DefaultCost

// HashPassword returns the bcrypt hash of a password.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("password is empty")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// PasswordMatches checks a password against a bcrypt hash (bcrypt compares
// in constant time).
func PasswordMatches(pw, hash string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// ValidPasswordHash reports whether s is a bcrypt hash.
func ValidPasswordHash(s string) bool {
	_, err := bcrypt.Cost([]byte(s))
	return err == nil
}

// dummyHash is compared against when a Basic-auth user is unknown, so an
// unknown user costs as much time as a wrong password and timing does not
// reveal which usernames exist.
// It is made on first use so that importing the package costs nothing.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("pinpoint-dummy-password"), PasswordCost)
	return h
})

// BurnPasswordCheck spends the time of one password check.
func BurnPasswordCheck(pw string) { _ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw)) }
