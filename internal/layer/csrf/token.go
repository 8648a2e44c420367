package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// tokenVersion prefixes every token so the format can change later.
const tokenVersion = "v1"

// Why a token was refused; each becomes its own detail.
var (
	errTampered     = errors.New("tampered")
	errWrongSession = errors.New("wrong_session")
	errExpired      = errors.New("expired")
)

// signer issues and checks tokens. Two keys are derived from the secret so
// the session fingerprint and the token MAC can never be confused.
type signer struct {
	macKey, sidKey []byte
	ttl            time.Duration
}

func newSigner(secret string, ttl time.Duration) *signer {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("pinpoint csrf " + label))
		return m.Sum(nil)
	}
	return &signer{macKey: derive("mac"), sidKey: derive("session"), ttl: ttl}
}

var b64 = base64.RawURLEncoding

// sessionID fingerprints the session cookie value; it is not reversible,
// so the token reveals nothing about the session.
func (s *signer) sessionID(session string) string {
	m := hmac.New(sha256.New, s.sidKey)
	m.Write([]byte(session))
	return b64.EncodeToString(m.Sum(nil)[:12])
}

func (s *signer) mac(payload string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(payload))
	return b64.EncodeToString(m.Sum(nil))
}

// issue makes a token: v1.<unix issue time>.<nonce>.<session id>.<mac>.
func (s *signer) issue(session string, now time.Time) (string, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	payload := tokenVersion + "." + strconv.FormatInt(now.Unix(), 10) + "." + b64.EncodeToString(nonce[:]) + "." + s.sessionID(session)
	return payload + "." + s.mac(payload), nil
}

// verify checks a token for a session at now and returns its issue time.
// The MAC is checked first, so nothing else about a forged token is
// looked at or reported.
func (s *signer) verify(token, session string, now time.Time) (time.Time, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return time.Time{}, errTampered
	}
	payload, sum := token[:i], token[i+1:]
	if !hmac.Equal([]byte(sum), []byte(s.mac(payload))) {
		return time.Time{}, errTampered
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 4 || parts[0] != tokenVersion {
		return time.Time{}, errTampered
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, errTampered
	}
	issued := time.Unix(sec, 0)
	if subtle.ConstantTimeCompare([]byte(parts[3]), []byte(s.sessionID(session))) != 1 {
		return issued, errWrongSession
	}
	// An issue time in the future only means another node's clock is
	// ahead; the MAC proves the token is ours, so only age is checked.
	if !now.Before(issued.Add(s.ttl)) {
		return issued, errExpired
	}
	return issued, nil
}
