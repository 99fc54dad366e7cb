package doctor

import (
	"encoding/json"
	"io"
	"strings"
)

// The parts of SARIF 2.1.0 (OASIS) a report needs.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
	HelpURI          string       `json:"helpUri"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID     string            `json:"ruleId"`
	RuleIndex  int               `json:"ruleIndex"`
	Level      string            `json:"level"`
	Message    sarifMessage      `json:"message"`
	Locations  []sarifLocation   `json:"locations,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

// troubleshootingURL is where each finding ID is explained.
const troubleshootingURL = "https://github.com/atomcp/atomcp/blob/main/docs/troubleshooting.md"

// WriteSARIF writes the report as SARIF 2.1.0 for CI (code-scanning
// uploads, annotations): one rule per finding ID of the report, linking
// to its section in docs/troubleshooting.md, and one result per failed
// finding, its message the title and the fix. version is doctor's.
func WriteSARIF(w io.Writer, rep *Report, version string) error {
	var rules []sarifRule
	index := map[string]int{}
	for _, f := range rep.Findings {
		if _, ok := index[f.ID]; ok {
			continue
		}
		index[f.ID] = len(rules)
		rules = append(rules, sarifRule{
			ID:               f.ID,
			ShortDescription: sarifMessage{Text: "atomcp doctor check " + f.ID + " (" + f.Area.Title() + ")"},
			HelpURI:          troubleshootingURL + "#" + strings.ReplaceAll(f.ID, ".", ""),
		})
	}
	results := []sarifResult{}
	for _, f := range rep.Findings {
		if f.Status != Fail {
			continue
		}
		msg := f.Title
		if f.Client != "" {
			msg = f.Client + ": " + msg
		}
		if o := f.Observed.String(); o != "" {
			msg += ". Observed: " + o
		}
		if f.Fix != "" {
			msg += ". Fix: " + f.Fix
		}
		res := sarifResult{RuleID: f.ID, RuleIndex: index[f.ID], Level: "error", Message: sarifMessage{Text: msg},
			Properties: map[string]string{"area": string(f.Area)}}
		if f.Client != "" {
			res.Properties["client"] = f.Client
		}
		where := rep.URL
		if f.Observed != nil && f.Observed.URL != "" {
			where = f.Observed.URL
		}
		if where == "" {
			where = rep.Config
		}
		if where != "" {
			res.Locations = []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: where}}}}
		}
		results = append(results, res)
	}
	if rules == nil {
		rules = []sarifRule{}
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:    sarifTool{Driver: sarifDriver{Name: "atomcp doctor", Version: version, InformationURI: "https://github.com/atomcp/atomcp", Rules: rules}},
			Results: results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
