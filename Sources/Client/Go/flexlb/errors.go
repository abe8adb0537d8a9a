package flexlb

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Sentinel errors for errors.Is: an *APIError matches the one of its status.
var (
	// ErrBadRequest: 400, the request violated the spec (see Violations).
	ErrBadRequest = errors.New("flexlb: bad request")
	// ErrForbidden: 403, the operation is not allowed on this instance (the cluster endpoint).
	ErrForbidden = errors.New("flexlb: forbidden")
	// ErrNotFound: 404, no instance with that name.
	ErrNotFound = errors.New("flexlb: not found")
	// ErrConflict: 409, the name or a VIP:port is already in use.
	ErrConflict = errors.New("flexlb: conflict")
	// ErrPreconditionFailed: 412, If-Match did not match the instance's current ETag.
	ErrPreconditionFailed = errors.New("flexlb: precondition failed")
	// ErrPayloadTooLarge: 413, the body is larger than flexlbd accepts.
	ErrPayloadTooLarge = errors.New("flexlb: payload too large")
	// ErrUnavailable: 503, the node is not ready.
	ErrUnavailable = errors.New("flexlb: unavailable")
)

var statusErrors = map[int]error{
	http.StatusBadRequest:            ErrBadRequest,
	http.StatusForbidden:             ErrForbidden,
	http.StatusNotFound:              ErrNotFound,
	http.StatusConflict:              ErrConflict,
	http.StatusPreconditionFailed:    ErrPreconditionFailed,
	http.StatusRequestEntityTooLarge: ErrPayloadTooLarge,
	http.StatusServiceUnavailable:    ErrUnavailable,
}

// APIError is an answer of flexlbd other than the operation's success status.
type APIError struct {
	// Operation is the operationId of openapi.yaml (create, get, ...).
	Operation string
	// Status is the HTTP status code.
	Status int
	// Message is the ErrorBody's message (the status text when the body has none).
	Message string
	// Violations lists every violated constraint of a 400, with JSON paths.
	Violations []Violation
	// RequestID is flexlbd's X-Request-Id, the key to its log.
	RequestID string
	// Endpoint is the base URL that answered.
	Endpoint string
	// Body is the raw response body.
	Body []byte
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("flexlb: ")
	b.WriteString(e.Operation)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.Status))
	b.WriteString(" ")
	b.WriteString(e.Message)
	for _, v := range e.Violations {
		b.WriteString("; ")
		b.WriteString(v.Path)
		b.WriteString(": ")
		b.WriteString(v.Message)
	}
	return b.String()
}

// Is matches the sentinel of the error's status (ErrNotFound for 404, ...).
func (e *APIError) Is(target error) bool {
	sentinel, ok := statusErrors[e.Status]
	return ok && sentinel == target
}
