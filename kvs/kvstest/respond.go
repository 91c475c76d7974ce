package kvstest

import (
	"encoding/json"
	"net/http"
)

// ErrorForm is one of the ways AWS's services name an error's type, which
// clients must all read (the SDKs read the X-Amzn-ErrorType header, then
// the body's code, then its __type, cutting at ":" and "#").
type ErrorForm int

// The error forms.
const (
	// ErrorInHeader names the type in the X-Amzn-ErrorType header, with the
	// ":http://internal.amazon.com/coral/..." suffix KVS adds, and the body
	// holds only {"Message": ...}: what KVS sends.
	ErrorInHeader ErrorForm = iota
	// ErrorInCode sends no header and names the type in the body's "code".
	ErrorInCode
	// ErrorInType sends no header and names the type in the body's
	// "__type", with a namespace prefix: "com.amazonaws.kinesisvideo#Name".
	ErrorInType
)

// writeError answers as KVS does: the status, the type in the
// X-Amzn-ErrorType header, the message in a JSON body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeErrorForm(w, status, code, msg, ErrorInHeader)
}

// writeErrorForm answers with an error in the given form, the message in
// the body's "Message" (the key the SDK's modeled exceptions read).
func writeErrorForm(w http.ResponseWriter, status int, code, msg string, form ErrorForm) {
	body := map[string]string{"Message": msg}
	switch form {
	case ErrorInCode:
		body["code"] = code
	case ErrorInType:
		body["__type"] = "com.amazonaws.kinesisvideo#" + code
	default:
		w.Header().Set("X-Amzn-ErrorType", code+":http://internal.amazon.com/coral/com.amazonaws.kinesisvideo/")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
