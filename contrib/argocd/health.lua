-- Argo CD health of a connect-operator ConfigMap, from the annotations the
-- hook writes (see docs/operate.md, "Health: kubectl wait, Argo CD, Flux"), which
-- gives the command that installs it in argocd-cm as
-- resource.customizations.health.ConfigMap. Lua 5.1, as Argo
-- CD's gopher-lua runs it; tests/argocd.rs runs it in PUC Lua 5.1.
local hs = {}
local labels = obj.metadata.labels or {}
if labels["destination"] ~= "connect" then
  -- Any other ConfigMap: as Argo CD says of ConfigMaps without a check.
  hs.status = "Healthy"
  return hs
end
local annotations = obj.metadata.annotations or {}
local ready = annotations["status.connect-operator.io/ready"]
local reason = annotations["status.connect-operator.io/reason"] or ""
local summary = annotations["status.connect-operator.io/summary"] or ""
if ready == nil then
  hs.status = "Progressing"
  hs.message = "waiting for connect-operator to act on it"
elseif ready == "True" then
  hs.status = "Healthy"
  hs.message = summary
elseif ready == "Unknown" then
  -- Connect did not answer: the states in the summary are the last seen.
  hs.status = "Unknown"
  hs.message = summary
elseif reason == "Progressing" then
  hs.status = "Progressing"
  hs.message = summary
else
  -- Failed (a connector or task failed) or Error (a template, label or write).
  hs.status = "Degraded"
  hs.message = reason .. ": " .. summary
end
return hs
