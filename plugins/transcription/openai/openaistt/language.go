package openaistt

import (
	"fmt"
	"strings"
)

// isoLanguage returns the ISO 639-1 code the API expects for a BCP 47 tag:
// its primary subtag, such as "en" for "en-US".
func isoLanguage(tag string) (string, error) {
	primary, _, _ := strings.Cut(tag, "-")
	primary = strings.ToLower(primary)
	if len(primary) != 2 || strings.Trim(primary, "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", fmt.Errorf("language %q has no two-letter ISO 639-1 primary subtag; use a tag such as \"en\" or \"en-US\"", tag)
	}
	return primary, nil
}

// bcp47Language converts the language a server reports into a BCP 47 tag.
// Whisper servers report an English name such as "english"; others report
// a code. Unknown names yield "".
func bcp47Language(reported string) string {
	reported = strings.ToLower(strings.TrimSpace(reported))
	if code, ok := whisperLanguages[reported]; ok {
		return code
	}
	if len(reported) == 2 || len(reported) == 3 {
		for _, code := range whisperLanguages {
			if code == reported {
				return code
			}
		}
	}
	return ""
}

// whisperLanguages maps the language names of OpenAI Whisper's tokenizer
// (whisper/tokenizer.py, LANGUAGES) to BCP 47 language subtags. Whisper's
// own code for Javanese is "jw"; the standard subtag "jv" is used here.
var whisperLanguages = map[string]string{
	"afrikaans": "af", "albanian": "sq", "amharic": "am", "arabic": "ar", "armenian": "hy",
	"assamese": "as", "azerbaijani": "az", "bashkir": "ba", "basque": "eu", "belarusian": "be",
	"bengali": "bn", "bosnian": "bs", "breton": "br", "bulgarian": "bg", "cantonese": "yue",
	"catalan": "ca", "chinese": "zh", "croatian": "hr", "czech": "cs", "danish": "da",
	"dutch": "nl", "english": "en", "estonian": "et", "faroese": "fo", "finnish": "fi",
	"french": "fr", "galician": "gl", "georgian": "ka", "german": "de", "greek": "el",
	"gujarati": "gu", "haitian creole": "ht", "hausa": "ha", "hawaiian": "haw", "hebrew": "he",
	"hindi": "hi", "hungarian": "hu", "icelandic": "is", "indonesian": "id", "italian": "it",
	"japanese": "ja", "javanese": "jv", "kannada": "kn", "kazakh": "kk", "khmer": "km",
	"korean": "ko", "lao": "lo", "latin": "la", "latvian": "lv", "lingala": "ln",
	"lithuanian": "lt", "luxembourgish": "lb", "macedonian": "mk", "malagasy": "mg", "malay": "ms",
	"malayalam": "ml", "maltese": "mt", "maori": "mi", "marathi": "mr", "mongolian": "mn",
	"myanmar": "my", "nepali": "ne", "norwegian": "no", "nynorsk": "nn", "occitan": "oc",
	"pashto": "ps", "persian": "fa", "polish": "pl", "portuguese": "pt", "punjabi": "pa",
	"romanian": "ro", "russian": "ru", "sanskrit": "sa", "serbian": "sr", "shona": "sn",
	"sindhi": "sd", "sinhala": "si", "slovak": "sk", "slovenian": "sl", "somali": "so",
	"spanish": "es", "sundanese": "su", "swahili": "sw", "swedish": "sv", "tagalog": "tl",
	"tajik": "tg", "tamil": "ta", "tatar": "tt", "telugu": "te", "thai": "th",
	"tibetan": "bo", "turkish": "tr", "turkmen": "tk", "ukrainian": "uk", "urdu": "ur",
	"uzbek": "uz", "vietnamese": "vi", "welsh": "cy", "yiddish": "yi", "yoruba": "yo",
}
