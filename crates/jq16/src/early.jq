# Definitions that replace jaq's where jaq's other definitions use them, so
# they come first and jaq's own are left out: how values become text.
def tostring: _jq16_text;
def tojson: _jq16_json;
def @text: _jq16_text;
def @json: _jq16_json;
def @html: _jq16_html;
def @uri: _jq16_uri;
def @csv: _jq16_csv;
def @tsv: _jq16_tsv;
def @sh: _jq16_sh;
def @base64: _jq16_text | encode_base64;
def @base64d: _jq16_base64d;
def utf8bytelength: _jq16_utf8bytelength;
def indices($i): _jq16_indices($i);
def tonumber: _jq16_tonumber;
