package sandbox

import (
	"context"
	"log/slog"
	"sync"
)

// EmulatorRequest is one request the Entra emulator answered, as it logs it
// (never with assertions or tokens).
type EmulatorRequest struct {
	Method   string
	Endpoint string // entraemulator.Endpoint* ("token", ...)
	Tenant   string
	ClientID string
	Outcome  string // "ok", an OAuth error code, or "fault"
	Code     string // "AADSTS70021" for errors, else ""
}

// requestLog is a slog.Handler that records the emulator's "request" lines.
type requestLog struct {
	mu       *sync.Mutex
	requests *[]EmulatorRequest
	logf     func(format string, args ...any)
}

func newRequestLog(logf func(string, ...any)) *requestLog {
	return &requestLog{mu: &sync.Mutex{}, requests: &[]EmulatorRequest{}, logf: logf}
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *requestLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		if l.logf != nil {
			attrs := []any{}
			r.Attrs(func(a slog.Attr) bool {
				attrs = append(attrs, a.Key+"="+a.Value.String())
				return true
			})
			l.logf("entra emulator: %s %v", r.Message, attrs)
		}
		return nil
	}
	var req EmulatorRequest
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.String()
		switch a.Key {
		case "method":
			req.Method = v
		case "endpoint":
			req.Endpoint = v
		case "tenant":
			req.Tenant = v
		case "clientID":
			req.ClientID = v
		case "outcome":
			req.Outcome = v
		case "code":
			req.Code = v
		}
		return true
	})
	l.mu.Lock()
	*l.requests = append(*l.requests, req)
	l.mu.Unlock()
	return nil
}

func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *requestLog) WithGroup(string) slog.Handler      { return l }

func (l *requestLog) snapshot() []EmulatorRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]EmulatorRequest(nil), *l.requests...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.requests = nil
}
