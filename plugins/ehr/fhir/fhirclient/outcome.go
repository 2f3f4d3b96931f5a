package fhirclient

import (
	"encoding/json"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// operationOutcome is the part of a FHIR OperationOutcome the client reads.
type operationOutcome struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity    string   `json:"severity"`
		Code        string   `json:"code"`
		Diagnostics string   `json:"diagnostics"`
		Expression  []string `json:"expression"`
		Location    []string `json:"location"`
		Details     *struct {
			Text string `json:"text"`
		} `json:"details"`
	} `json:"issue"`
}

// parseOperationOutcome maps an OperationOutcome error body issue by issue,
// for httpx.Options.ParseError. The message is the first issue's text.
// Bodies that are not an OperationOutcome yield their first line.
func parseOperationOutcome(_ int, body []byte) (string, []sdk.Issue) {
	var parsed operationOutcome
	if json.Unmarshal(body, &parsed) != nil || parsed.ResourceType != "OperationOutcome" {
		text := strings.TrimSpace(string(body))
		if i := strings.IndexAny(text, "\r\n"); i >= 0 {
			text = text[:i]
		}
		return text, nil
	}

	issues := make([]sdk.Issue, 0, len(parsed.Issue))
	for _, raw := range parsed.Issue {
		issue := sdk.Issue{
			Severity:    sdk.Severity(raw.Severity),
			Code:        sdk.IssueCode(raw.Code),
			Diagnostics: raw.Diagnostics,
			Source:      sdk.SourceUpstream,
		}
		if issue.Diagnostics == "" && raw.Details != nil {
			issue.Diagnostics = raw.Details.Text
		}
		if len(raw.Expression) > 0 {
			issue.Expression = raw.Expression[0]
		} else if len(raw.Location) > 0 {
			issue.Expression = raw.Location[0]
		}
		issues = append(issues, issue)
	}
	if len(issues) == 0 {
		return "", nil
	}
	return issues[0].Diagnostics, issues
}
