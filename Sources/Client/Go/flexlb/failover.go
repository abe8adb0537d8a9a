package flexlb

import "time"

// outcome is what happened to one attempt.
type outcome int

const (
	// outcomeResponse: a server answered (the status is passed beside it).
	outcomeResponse outcome = iota
	// outcomeNotSent: no connection was established; the request was not sent.
	outcomeNotSent
	// outcomeMaybeSent: the request may have reached a server (timeout or loss after sending).
	outcomeMaybeSent
)

// directiveKind is what the transport does next.
type directiveKind int

const (
	directiveSend directiveKind = iota
	directiveDeliver
	directiveFail
)

type directive struct {
	kind     directiveKind
	endpoint int
	delay    time.Duration
}

// failoverPolicy decides, attempt by attempt, where a request goes next (the same rules as the
// Swift client's FailoverPolicy):
//
//   - a request that never reached a server (connect refused or timed out, TLS handshake failed)
//     moves on to the next endpoint, idempotent or not: nothing was sent;
//   - after the request may have reached a server, only an idempotent request is sent again;
//   - an idempotent request answered 502, 503 or 504 moves on too, unless the status is itself the
//     answer (the per-node ready probe);
//   - when every endpoint has been tried once, an idempotent request gets up to maxRetries more
//     rounds, each after an exponentially growing pause.
type failoverPolicy struct {
	endpoints     int
	idempotent    bool
	maxRetries    int
	backoff       time.Duration
	retryOnStatus bool

	endpoint     int
	triedInRound int
	round        int
}

func newFailoverPolicy(endpoints, first int, idempotent bool, maxRetries int, backoff time.Duration, retryOnStatus bool) *failoverPolicy {
	if maxRetries < 0 {
		maxRetries = 0
	}
	return &failoverPolicy{
		endpoints: endpoints, idempotent: idempotent, maxRetries: maxRetries, backoff: backoff,
		retryOnStatus: retryOnStatus, endpoint: ((first % endpoints) + endpoints) % endpoints, triedInRound: 1,
	}
}

func (f *failoverPolicy) start() directive {
	return directive{kind: directiveSend, endpoint: f.endpoint}
}

func (f *failoverPolicy) next(o outcome, status int) directive {
	switch o {
	case outcomeResponse:
		if !f.idempotent || !f.retryOnStatus || (status != 502 && status != 503 && status != 504) {
			return directive{kind: directiveDeliver}
		}
		return f.advance(directiveDeliver)
	case outcomeNotSent:
		return f.advance(directiveFail)
	default:
		if f.idempotent {
			return f.advance(directiveFail)
		}
		return directive{kind: directiveFail}
	}
}

func (f *failoverPolicy) advance(exhausted directiveKind) directive {
	f.endpoint = (f.endpoint + 1) % f.endpoints
	if f.triedInRound < f.endpoints {
		f.triedInRound++
		return directive{kind: directiveSend, endpoint: f.endpoint}
	}
	if !f.idempotent || f.round >= f.maxRetries {
		return directive{kind: exhausted}
	}
	f.round++
	f.triedInRound = 1
	return directive{kind: directiveSend, endpoint: f.endpoint, delay: f.backoff * time.Duration(1<<(f.round-1))}
}
