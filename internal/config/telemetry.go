package config

import (
	"errors"
	"net/url"
	"strings"
)

// MetricsOff is the MetricsAddr that switches /metrics off.
const MetricsOff = "off"

const acceptedMetricsAddr = "accepted: host:port such as 127.0.0.1:9090, or off; empty serves /metrics on the main listener"

// parseMetricsAddr accepts a listen address for the metrics listener, or
// off (also none, false, 0) for no /metrics at all.
func parseMetricsAddr(s string) (string, error) {
	switch strings.ToLower(s) {
	case "off", "none", "false", "0", "no":
		return MetricsOff, nil
	}
	a, err := parseAddr(s)
	if err != nil {
		return "", errors.New("not a host:port address; " + acceptedMetricsAddr)
	}
	return a, nil
}

const acceptedOTLPEndpoint = "accepted: an http or https URL such as http://localhost:4318"

// parseOTLPEndpoint checks an OTLP/HTTP endpoint URL.
func parseOTLPEndpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("not an absolute http(s) URL; " + acceptedOTLPEndpoint)
	}
	return s, nil
}

// MetricsOnMain reports whether /metrics is served on the main listener.
func (c *Config) MetricsOnMain() bool { return c.MetricsAddr == "" }

// MetricsEnabled reports whether /metrics is served at all.
func (c *Config) MetricsEnabled() bool { return c.MetricsAddr != MetricsOff }
