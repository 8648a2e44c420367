package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

type gmPart struct {
	Text         string `json:"text,omitempty"`
	FunctionCall *struct {
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	} `json:"functionCall,omitempty"`
	FunctionResponse *struct {
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	} `json:"functionResponse,omitempty"`
}

func geminiError(w http.ResponseWriter, status int, typ, msg string) {
	st := map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[status]
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": st}})
	writeJSON(w, status, body)
}

// gemini serves generateContent, streamGenerateContent (alt=sse) and
// batchEmbedContents.
func (s *Server) gemini(w http.ResponseWriter, r *http.Request, body []byte) {
	if badKey(r.Header.Get("x-goog-api-key")) || r.Header.Get("x-goog-api-key") == "" {
		geminiError(w, 401, "", "API key not valid. Please pass a valid API key.")
		return
	}
	p := r.URL.Path
	model := p[strings.LastIndex(p, "/models/")+len("/models/"):]
	model, op, _ := strings.Cut(model, ":")
	b := behaviourOf(model)
	if op == "batchEmbedContents" {
		var req struct {
			Requests []struct {
				Content struct {
					Parts []gmPart `json:"parts"`
				} `json:"content"`
			} `json:"requests"`
		}
		_ = json.Unmarshal(body, &req)
		var embs []any
		for _, q := range req.Requests {
			t := ""
			for _, pt := range q.Content.Parts {
				t += pt.Text
			}
			embs = append(embs, map[string]any{"values": vector(t)})
		}
		out, _ := json.Marshal(map[string]any{"embeddings": embs})
		writeJSON(w, 200, out)
		return
	}
	var req struct {
		Contents []struct {
			Role  string   `json:"role"`
			Parts []gmPart `json:"parts"`
		} `json:"contents"`
		SystemInstruction *struct {
			Parts []gmPart `json:"parts"`
		} `json:"systemInstruction"`
		Tools []struct {
			FunctionDeclarations []struct {
				Name string `json:"name"`
			} `json:"functionDeclarations"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Contents) == 0 {
		geminiError(w, 400, "", "* GenerateContentRequest.contents: contents is not specified")
		return
	}
	prompt, last, lastResult, lastIsResult := 0, "", "", false
	if req.SystemInstruction != nil {
		for _, pt := range req.SystemInstruction.Parts {
			prompt += words(pt.Text)
		}
	}
	for i, c := range req.Contents {
		if c.Role != "user" && c.Role != "model" {
			geminiError(w, 400, "", fmt.Sprintf("* GenerateContentRequest.contents[%d].role: Please use a valid role: user, model.", i))
			return
		}
		prompt += 3
		lastIsResult = false
		for _, pt := range c.Parts {
			prompt += words(pt.Text)
			if c.Role == "user" && pt.Text != "" {
				last, lastIsResult = pt.Text, false
			}
			if pt.FunctionResponse != nil {
				lastResult, lastIsResult = string(pt.FunctionResponse.Response), true
			}
		}
	}
	if !s.wait(r, b) {
		return
	}
	if b.status != 0 {
		geminiError(w, b.status, "", fmt.Sprintf("mock: status %d on demand", b.status))
		return
	}
	content := reply(last)
	var call map[string]any
	switch {
	case lastIsResult:
		content = "Tool result: " + lastResult
	case len(req.Tools) > 0 && len(req.Tools[0].FunctionDeclarations) > 0:
		call = map[string]any{"name": req.Tools[0].FunctionDeclarations[0].Name, "args": map[string]string{"query": last}}
		content = ""
	}
	completion := words(content)
	if call != nil {
		completion = 5
	}
	usage := func(c int) map[string]int {
		return map[string]int{"promptTokenCount": prompt, "candidatesTokenCount": c, "totalTokenCount": prompt + c}
	}
	resp := func(parts []any, finish string, c int) []byte {
		cand := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": 0}
		if finish != "" {
			cand["finishReason"] = finish
		}
		out, _ := json.Marshal(map[string]any{"candidates": []any{cand}, "usageMetadata": usage(c), "modelVersion": model, "responseId": "gm-mock"})
		return out
	}
	if op != "streamGenerateContent" {
		var parts []any
		if content != "" {
			parts = append(parts, map[string]any{"text": content})
		}
		if call != nil {
			parts = append(parts, map[string]any{"functionCall": call})
		}
		writeJSON(w, 200, resp(parts, "STOP", completion))
		return
	}
	if r.URL.Query().Get("alt") != "sse" {
		geminiError(w, 400, "", "mock: streams are served with alt=sse only")
		return
	}
	send := sse(w)
	if call != nil {
		send("", resp([]any{map[string]any{"functionCall": call}}, "STOP", completion))
		return
	}
	ps := pieces(content)
	sent := 0
	for i, pc := range ps {
		if b.cut && i == 2 {
			return
		}
		sent += words(pc)
		finish := ""
		if i == len(ps)-1 {
			finish = "STOP"
		}
		// usageMetadata is cumulative in each event.
		send("", resp([]any{map[string]any{"text": pc}}, finish, sent))
	}
}
