package exporter

import (
	"errors"
	"strings"
)

// PartialError reports objects a refresh skipped for a permanent reason (a
// configured link or code the provider does not know), while the samples
// returned beside it are complete for everything else. The scheduler stores
// those samples, keeps the collector up and shows the error on the landing
// page.
//
// Transient failures (5xx, 429, timeouts) must not be reported this way: they
// fail the whole refresh, so the last good values of every object stay.
type PartialError struct {
	Errs []error
}

func (e *PartialError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the individual errors.
func (e *PartialError) Unwrap() []error { return e.Errs }

// Partial returns nil if errs is empty, else a *PartialError.
func Partial(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return &PartialError{Errs: errs}
}

// IsPartial reports whether err is a PartialError.
func IsPartial(err error) bool {
	var pe *PartialError
	return errors.As(err, &pe)
}
