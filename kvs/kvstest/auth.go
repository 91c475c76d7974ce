package kvstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kvsmkv/kvsmkv/kvs/kvsaws"
)

// The error types AWS answers a request it cannot authenticate with.
const (
	ErrMissingAuthenticationToken = "MissingAuthenticationTokenException"
	ErrIncompleteSignature        = "IncompleteSignatureException"
	ErrInvalidSignature           = "InvalidSignatureException"
	ErrUnrecognizedClient         = "UnrecognizedClientException"
)

// MaxClockSkew is how far a request's X-Amz-Date may be from the server's
// clock, as at AWS.
const MaxClockSkew = 5 * time.Minute

// authError is a refusal of a request's signature.
type authError struct {
	status    int
	code, msg string
}

const sigV4Algorithm = "AWS4-HMAC-SHA256"

// verify checks a request's SigV4 signature as AWS does: it rebuilds the
// canonical request from the headers the client listed in SignedHeaders
// (whatever set its signer chose), hashes the payload (the
// X-Amz-Content-Sha256 header when present, UNSIGNED-PAYLOAD included,
// else the body; a streamed body that is not read first, as PutMedia's, is
// signed by producers as the empty string), and checks the credential
// scope and the clock. body is nil for a streamed request. It returns nil
// or the error KVS answers with.
func verify(r *http.Request, body []byte) *authError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &authError{http.StatusForbidden, ErrMissingAuthenticationToken, "Missing Authentication Token"}
	}
	incomplete := func(msg string) *authError {
		return &authError{http.StatusBadRequest, ErrIncompleteSignature, msg}
	}
	invalid := func(msg string) *authError {
		return &authError{http.StatusForbidden, ErrInvalidSignature, msg}
	}
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != sigV4Algorithm {
		return incomplete(fmt.Sprintf("Authorization header requires the %s algorithm", sigV4Algorithm))
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			params[k] = v
		}
	}
	var missing []string
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	stamp := r.Header.Get("X-Amz-Date")
	if stamp == "" {
		stamp = r.Header.Get("Date")
	}
	if stamp == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return incomplete(strings.Join(missing, " ") + " Authorization=" + auth)
	}
	when, err := time.Parse("20060102T150405Z", stamp)
	if err != nil {
		if when, err = http.ParseTime(stamp); err != nil {
			return incomplete("Date must be in ISO-8601 'basic format'. Got '" + stamp + "'.")
		}
	}
	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 {
		return incomplete("Credential should be scoped by key/date/region/service/aws4_request: " + params["Credential"])
	}
	key, day, region, service, term := scope[0], scope[1], scope[2], scope[3], scope[4]
	if key != AccessKeyID {
		return &authError{http.StatusForbidden, ErrUnrecognizedClient, "The security token included in the request is invalid."}
	}
	switch amzDay := when.UTC().Format("20060102"); {
	case day != amzDay:
		return invalid(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", day, amzDay, stamp))
	case region != Region:
		return invalid(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", region))
	case service != kvsaws.SigningName:
		return invalid(fmt.Sprintf("Credential should be scoped to correct service: '%s'.", kvsaws.SigningName))
	case term != "aws4_request":
		return invalid(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", term))
	}
	const layout = "20060102T150405Z"
	now := time.Now().UTC()
	if when.Before(now.Add(-MaxClockSkew)) {
		return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			when.UTC().Format(layout), now.Add(-MaxClockSkew).Format(layout), now.Format(layout)))
	}
	if when.After(now.Add(MaxClockSkew)) {
		return invalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			when.UTC().Format(layout), now.Add(MaxClockSkew).Format(layout), now.Format(layout)))
	}

	signed := strings.Split(params["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) || !contains(signed, "host") {
		return incomplete("SignedHeaders must be sorted, lower case, and include host: " + params["SignedHeaders"])
	}
	payload, ae := payloadHash(r.Header.Get("X-Amz-Content-Sha256"), body)
	if ae != nil {
		return ae
	}
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	canon.WriteString(canonicalPath(r) + "\n")
	canon.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range signed {
		canon.WriteString(h + ":" + headerValue(r, h) + "\n")
	}
	canon.WriteString("\n" + params["SignedHeaders"] + "\n" + payload)

	sum := sha256.Sum256([]byte(canon.String()))
	credScope := strings.Join(scope[1:], "/")
	toSign := sigV4Algorithm + "\n" + stamp + "\n" + credScope + "\n" + hex.EncodeToString(sum[:])
	k := hmacSHA256([]byte("AWS4"+SecretAccessKey), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, term)
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if !hmac.Equal([]byte(want), []byte(params["Signature"])) {
		return invalid("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

// payloadHash is the payload hash of a request's canonical request, given
// its X-Amz-Content-Sha256 header. KVS speaks a JSON protocol, not S3's: its
// signatures cover the body itself, so a request's body is hashed and a
// header naming another hash (UNSIGNED-PAYLOAD included) is refused as
// the signature mismatch it would be, 403 InvalidSignatureException (S3's
// XAmzContentSHA256Mismatch is S3's own). A streamed body (PutMedia, body
// nil) cannot be hashed before it is acted on: producers sign it as the
// empty string (the C producer, with no header), which is checked, or
// UNSIGNED-PAYLOAD; a header naming any other hash is refused.
func payloadHash(header string, body []byte) (string, *authError) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	switch {
	case header == "" || header == actual:
		return actual, nil
	case body == nil && header == unsignedPayload:
		return header, nil
	case body == nil:
		return "", &authError{http.StatusForbidden, ErrInvalidSignature, "The x-amz-content-sha256 of a streamed PutMedia must be the SHA-256 of the empty string or UNSIGNED-PAYLOAD: its body cannot be hashed before it is read."}
	}
	return "", &authError{http.StatusForbidden, ErrInvalidSignature, "The request's x-amz-content-sha256 (" + header + ") does not match the SHA-256 of its body (" + actual + ")."}
}

// unsignedPayload is the payload hash of a request whose body is not
// signed.
const unsignedPayload = "UNSIGNED-PAYLOAD"

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// headerValue is the canonical value of a signed header: its values as
// received, each trimmed with inner runs of spaces collapsed, joined with
// ",". The Host header and the framing headers Go's server takes out of
// the header map are read back from the request.
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "content-length":
		values = r.Header.Values(name)
		if len(values) == 0 && r.ContentLength >= 0 {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		values = r.TransferEncoding
	default:
		values = r.Header.Values(name)
	}
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}

// canonicalPath is the URI-encoded path the client sent, before the
// emulator took a data endpoint's prefix off it.
func canonicalPath(r *http.Request) string {
	p := r.URL.Path
	if ep, ok := r.Context().Value(endpointKey{}).(endpointRef); ok {
		p = ep.path
	}
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery sorts the query by name and value, encoded.
func canonicalQuery(q url.Values) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

// uriEncode encodes all but SigV4's unreserved characters (and "/" in a
// path).
func uriEncode(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !slash {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
