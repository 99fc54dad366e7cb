package config

import (
	"errors"
	"time"
)

// positiveDuration parses a duration that must be greater than zero (a
// token lifetime of zero would make every token expired on issue).
func positiveDuration(s string) (time.Duration, error) {
	d, err := durationParser("")(s)
	if err != nil {
		return 0, err
	}
	if d == 0 {
		return 0, errors.New("must be greater than 0; accepted: a Go duration such as 30m or 1h")
	}
	return d, nil
}
