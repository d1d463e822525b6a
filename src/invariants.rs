//! Property tests of what the engine promises for every input, searched by
//! proptest rather than shown by picked examples:
//!
//! - applying a plan and planning again gives a plan with no writes;
//! - no plan deletes a connector that is declared, unless the ConfigMap that
//!   owns it disables it, nor (with `PRUNE=owned`) one this operator never
//!   applied;
//! - no plan changes or deletes a connector for a ConfigMap other than its
//!   owner while the owner declares it;
//! - no plan deletes what a ConfigMap retains (unless it disables it), nor
//!   sends more deletes than the delete limit;
//! - the hook and `apply` make the same plan for the same ConfigMaps;
//! - no secret, however a template embeds it, reaches an output.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::connect::clusters::{self, Clusters, Resolve};
use crate::connect::tenancy::Tenancy;
use crate::connect::Settings;
use crate::desired::{self, CmState, Declared, DeclaredConnectors, Recorded, Role};
use crate::input::manifests::Manifest;
use crate::model::configmap::{CmId, ConfigMap, DeletionPolicy};
use crate::model::connector::{Connector, TargetState};
use crate::model::live::{ConnectorState, Live, Status, Unit};
use crate::model::scope::Scope;
use crate::plan::{Action, After, DeleteLimit, Owned, Owner, Plan, Policy, Prune, Rename, Restarts, Step};
use crate::render::error::{Located, RenderError};
use crate::render::namespaces::ByNamespace;
use crate::render::sandbox::{Renderer, ToRender};
use crate::render::variables::Variables;

const NAMES: &[&str] = &["a", "b", "c", "d", "e"];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_string)
}

fn config() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        prop::sample::select(&["topic", "tasks.max", "connection.password"][..]).prop_map(str::to_string),
        prop::sample::select(&["x", "y", "1"][..]).prop_map(str::to_string),
        0..3,
    )
}

fn target() -> impl Strategy<Value = TargetState> {
    prop_oneof![Just(TargetState::Running), Just(TargetState::Paused), Just(TargetState::Stopped)]
}

fn connector() -> impl Strategy<Value = Connector> {
    let renamed_from = prop_oneof![3 => Just(None), 1 => name().prop_map(Some)];
    (name(), config(), target(), renamed_from).prop_map(|(name, mut config, state, renamed_from)| {
        config.insert("name".into(), name.clone());
        Connector {
            renamed_from: renamed_from.filter(|old| *old != name),
            name,
            state,
            config,
            secret_keys: BTreeSet::new(),
            literal_secrets: BTreeSet::new(),
        }
    })
}

fn declared() -> impl Strategy<Value = Vec<Declared>> {
    let state = prop_oneof![4 => Just(CmState::Apply), 1 => Just(CmState::Remove), 1 => Just(CmState::Deleted)];
    let template = prop_oneof![5 => connector().prop_map(Ok), 1 => Just(Err(RenderError::Parse(vec![Located::at(1, 1, "broken")])))];
    let deletion = prop::option::of(prop_oneof![Just(DeletionPolicy::Delete), Just(DeletionPolicy::Retain)]);
    let one = (state, prop::collection::vec(template, 1..3), prop::collection::btree_set(name(), 0..2), deletion);
    prop::collection::vec(one, 0..5).prop_map(|cms| {
        cms.into_iter()
            .enumerate()
            .map(|(i, (state, templates, recorded, deletion))| Declared {
                id: CmId { namespace: Some("ns".into()), name: format!("cm{i}") },
                cluster: clusters::DEFAULT.into(),
                state,
                role: Role::Acting,
                rendered: DeclaredConnectors {
                    templates: templates.into_iter().enumerate().map(|(k, t)| (format!("k{k}"), t)).collect(),
                    ..DeclaredConnectors::default()
                },
                recorded: Recorded { names: recorded, ..Recorded::default() },
                deletion,
                ..Declared::default()
            })
            .collect()
    })
}

fn live() -> impl Strategy<Value = Live> {
    use ConnectorState::{Failed, Paused, Running, Stopped, Unassigned};
    let unit = prop::sample::select(&[Running, Paused, Stopped, Failed, Unassigned][..]);
    let tasks = prop::collection::vec(prop::sample::select(&[Running, Failed, Paused][..]), 0..3);
    let one = (config(), unit, tasks);
    prop::collection::btree_map(name(), one, 0..5).prop_map(|connectors| {
        let mut live = Live::default();
        for (name, (mut config, state, tasks)) in connectors {
            config.insert("name".into(), name.clone());
            live.names.insert(name.clone());
            live.configs.insert(name.clone(), config);
            let tasks = tasks.into_iter().map(Unit::new).collect();
            live.status.insert(name, Status { connector: Unit::new(state), tasks });
        }
        live
    })
}

/// An ownership record: some names owned by one of the ConfigMaps
/// [`declared`] makes (or one it does not), some of unknown owner.
fn owned() -> impl Strategy<Value = Owned> {
    let owner = prop_oneof![
        1 => Just(Owner::Unknown),
        4 => (0..6_usize).prop_map(|i| Owner::ConfigMap(CmId { namespace: Some("ns".into()), name: format!("cm{i}") })),
    ];
    let owners = prop::collection::btree_map(name(), owner, 0..4);
    (owners, prop::collection::btree_set(name(), 0..2)).prop_map(|(by_name, held)| Owned { by_name, held })
}

fn options(prune: Prune, restarts: Restarts) -> Policy {
    Policy { restarts, prune, namespace: "ops".into(), ..Policy::default() }
}

fn prune() -> impl Strategy<Value = Prune> {
    prop_oneof![Just(Prune::Off), Just(Prune::Owned), Just(Prune::All)]
}

/// What Connect does with a plan, as the REST reference describes it.
fn apply(plan: &Plan, live: &mut Live) {
    for step in &plan.steps {
        let name = &step.connector;
        match &step.action {
            Action::Create(c) | Action::Rename(Rename { connector: c, .. }) => {
                if let Action::Rename(rename) = &step.action {
                    live.names.remove(&rename.from);
                    live.configs.remove(&rename.from);
                    live.status.remove(&rename.from);
                }
                live.names.insert(name.clone());
                live.configs.insert(name.clone(), c.config.clone());
                let state = c.state.initial_state();
                let tasks = if c.state == TargetState::Stopped { vec![] } else { vec![Unit::new(state)] };
                live.status.insert(name.clone(), Status { connector: Unit::new(state), tasks });
            }
            Action::Update { connector, .. } => {
                live.configs.insert(name.clone(), connector.config.clone());
            }
            Action::Delete { .. } => {
                live.names.remove(name);
                live.configs.remove(name);
                live.status.remove(name);
            }
            _ => {}
        }
        let Some(status) = live.status.get_mut(name) else { continue };
        for after in &step.after {
            match after {
                After::SetState(state) => {
                    status.connector = Unit::new(state.initial_state());
                    for task in &mut status.tasks {
                        *task = Unit::new(state.initial_state());
                    }
                    if *state == TargetState::Stopped {
                        status.tasks.clear();
                    }
                }
                After::Restart(_) => {
                    for unit in std::iter::once(&mut status.connector).chain(status.tasks.iter_mut()) {
                        if unit.state == ConnectorState::Failed {
                            *unit = Unit::new(ConnectorState::Running);
                        }
                    }
                }
                // Offsets change no config or state: a stop, then the declared state again.
                After::Offsets(..) => {}
            }
        }
    }
}

/// The names a ConfigMap that is applied declares with a template that rendered.
fn applied_names(declared: &[Declared]) -> BTreeSet<String> {
    declared.iter().filter(|d| d.state == CmState::Apply).flat_map(Declared::names).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_plan_carried_out_leaves_nothing_to_write(
        declared in declared(),
        mut live in live(),
        prune in prune(),
        owned in owned(),
        restart_now in any::<bool>(),
    ) {
        let restarts = if restart_now { Restarts::Now } else { Restarts::Automatic(10) };
        let options = options(prune, restarts);
        let plan = crate::plan::build(&declared, &live, &owned, Scope::Full, &options);
        apply(&plan, &mut live);
        let again = crate::plan::build(&declared, &live, &owned, Scope::Full, &options);
        let writes: Vec<String> = again.steps.iter().filter(|s| s.sends()).map(|s| s.to_string()).collect();
        prop_assert!(writes.is_empty(), "first plan {:?}\nsecond plan writes {:?}", plan.steps, writes);
    }

    #[test]
    fn no_plan_deletes_what_is_declared_or_prunes_what_it_does_not_own(
        declared in declared(),
        live in live(),
        prune in prune(),
        owned in owned(),
    ) {
        let plan = crate::plan::build(&declared, &live, &owned, Scope::Full, &options(prune, Restarts::Automatic(10)));
        let protected = applied_names(&declared);
        let pruner = crate::plan::prune::origin("ops").configmap;
        for step in plan.steps.iter().filter(|s| matches!(s.action, Action::Delete { .. })) {
            let by_owner = owned.owner(&step.connector) == Some(&step.origin.configmap);
            prop_assert!(
                !protected.contains(&step.connector) || by_owner,
                "deletes declared {}: {:?}",
                step.connector,
                plan.steps
            );
            // A delete the brake held earlier is planned again whatever PRUNE says.
            if step.origin.configmap == pruner && !owned.held.contains(&step.connector) {
                prop_assert!(prune != Prune::Off, "{step}");
                prop_assert!(prune == Prune::All || owned.contains(&step.connector), "prunes unowned {step}");
            }
        }
    }

    #[test]
    fn no_plan_deletes_what_is_retained_nor_more_than_the_limit(
        declared in declared(),
        live in live(),
        prune in prune(),
        owned in owned(),
        retain_by_default in any::<bool>(),
        limit in 1..4_usize,
    ) {
        let deletion = if retain_by_default { DeletionPolicy::Retain } else { DeletionPolicy::Delete };
        let policy = Policy { deletion, delete_limit: DeleteLimit::At(limit), ..options(prune, Restarts::Automatic(10)) };
        let plan = crate::plan::build(&declared, &live, &owned, Scope::Full, &policy);
        let deletes: Vec<_> = plan.steps.iter().filter(|s| matches!(s.action, Action::Delete { .. })).collect();
        prop_assert!(deletes.len() <= limit, "{} deletes over the limit {limit}: {:?}", deletes.len(), plan.steps);
        for step in deletes {
            let Some(d) = declared.iter().find(|d| d.id == step.origin.configmap) else { continue };
            let retains = d.deletion.unwrap_or(deletion) == DeletionPolicy::Retain;
            // Disabling is an explicit ask, of what it still declares.
            let disabled = d.state == CmState::Remove && step.origin.key.is_some();
            prop_assert!(!retains || disabled, "{step} although {} retains it", d.id);
        }
    }

    #[test]
    fn a_name_renamed_from_is_applied_by_none_and_no_other_step_touches_it(
        declared in declared(),
        live in live(),
        prune in prune(),
        owned in owned(),
    ) {
        let plan = crate::plan::build(&declared, &live, &owned, Scope::Full, &options(prune, Restarts::Automatic(10)));
        let declared_names = applied_names(&declared);
        for step in &plan.steps {
            let Action::Rename(rename) = &step.action else { continue };
            prop_assert!(!declared_names.contains(&rename.from), "{step} although {} is declared", rename.from);
            let others: Vec<&Step> = plan.steps.iter().filter(|s| s.connector == rename.from).collect();
            prop_assert!(others.is_empty(), "{step}, and {others:?}");
            let renames = plan.steps.iter().filter(|s| matches!(&s.action, Action::Rename(r) if r.from == rename.from));
            prop_assert_eq!(renames.count(), 1, "{} renamed twice: {:?}", rename.from, plan.steps);
        }
    }

    #[test]
    fn no_plan_touches_a_connector_for_another_configmap_than_its_owner(
        declared in declared(),
        live in live(),
        owned in owned(),
    ) {
        let plan = crate::plan::build(&declared, &live, &owned, Scope::Full, &options(Prune::Owned, Restarts::Automatic(10)));
        for step in plan.steps.iter().filter(|s| s.sends()) {
            let Some(owner) = owned.owner(&step.connector) else { continue };
            let declares = declared
                .iter()
                .any(|d| d.id == *owner && d.state != CmState::Deleted && d.names().contains(&step.connector));
            prop_assert!(!declares || step.origin.configmap == *owner, "{step} while {owner} declares it: {:?}", plan.steps);
        }
    }
}

/// ConfigMaps as the API server has them: a few templates each, some
/// disabled, some broken, names that may clash.
fn configmaps() -> impl Strategy<Value = Vec<Value>> {
    let template = prop_oneof![
        4 => (name(), target()).prop_map(|(n, s)| format!(
            r#"{{"name": "{n}", "state": "{s}", "config": {{"connector.class": "FileStreamSource", "topic": "t-{n}"}}}}"#
        )),
        1 => Just("{".to_string()),
        1 => Just(r#"{"name": "v", "config": {"x": $UNDEFINED}}"#.to_string()),
    ];
    let enabled = prop::sample::select(&["true", "false", "maybe"][..]);
    let one = (prop::collection::vec(template, 1..3), enabled);
    prop::collection::vec(one, 1..5).prop_map(|cms| {
        cms.into_iter()
            .enumerate()
            .map(|(i, (templates, enabled))| {
                let data: serde_json::Map<String, Value> =
                    templates.into_iter().enumerate().map(|(k, t)| (format!("k{k}.json"), json!(t))).collect();
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": format!("cm{i}"), "namespace": "ns",
                                    "labels": {"destination": "connect", "enabled": enabled}},
                       "data": data})
            })
            .collect()
    })
}

/// A plan as comparable text, without restarts: the command line restarts
/// nothing unless asked, by design, where the hook restarts what failed.
fn shape(plan: &Plan) -> Vec<String> {
    let mut steps: Vec<String> = plan
        .steps
        .iter()
        .map(|s| {
            let afters: Vec<String> =
                s.after.iter().filter(|a| matches!(a, After::SetState(_))).map(|a| a.to_string()).collect();
            format!("{} {:?} then {afters:?}", s.connector, crate::gitops::output::action_name(&s.action))
        })
        .collect();
    steps.extend(plan.problems.iter().map(|p| p.to_string()));
    steps.sort();
    steps
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_hook_and_apply_make_the_same_plan(configmaps in configmaps(), live in live()) {
        let renderer = Renderer::in_process(Arc::new(ByNamespace::default()));
        let clusters = Clusters::new(None, &Settings::default(), &Tenancy::default(), Resolve::Names).unwrap();
        let objects: Vec<Value> = configmaps.iter().map(|o| json!({"object": o, "filterResult": {}})).collect();
        let contexts = json!([{"binding": "connectors", "type": "Synchronization", "objects": objects,
                               "snapshots": {"connectors": objects}}]);
        let work = crate::input::bindings::parse_text(&contexts.to_string()).unwrap();
        let by_hook = desired::declare(&crate::hook::sources(&work), &renderer, &clusters);
        let manifests: Vec<Manifest> = configmaps
            .iter()
            .map(|o| Manifest { file: "m.yaml".into(), configmap: ConfigMap::from_json(o).unwrap() })
            .collect();
        let by_apply = desired::declare(&crate::gitops::sources_of(&manifests), &renderer, &clusters);
        let none = Owned::default();
        let hook = crate::plan::build(&by_hook, &live, &none, Scope::Full, &options(Prune::Off, Restarts::Automatic(10)));
        let apply = crate::plan::build(&by_apply, &live, &none, Scope::Full, &options(Prune::Off, Restarts::Automatic(0)));
        prop_assert_eq!(shape(&hook), shape(&apply));
    }
}

/// Ways a template can carry a secret into a connector or an error.
const EMBEDDINGS: &[&str] = &[
    r#"{"name": "c", "config": {"x": $S}}"#,
    r#"{"name": "c", "config": {"x": "jdbc://h/?password=\($S)&ssl=true"}}"#,
    r#"{"name": "c", "config": {"x": ($S + "-suffix")}}"#,
    r#"{"name": "c", "config": {"x": ($S | @base64)}}"#,
    r#"{"name": "c", "config": {"x": ($S | ascii_downcase)}}"#,
    r#"{"name": "c", "config": {"x": ({"k": $S} | tojson)}}"#,
    r#"{"name": "c", "config": {($S): "v"}}"#,
    r#"{"name": "c", "config": {("key-" + ($S | ascii_downcase)): "v"}}"#,
    r#"{"name": ("c-" + $S), "config": {}}"#,
    r#"{"name": "c", "config": {"x": ($S | tonumber)}}"#,
    r#"{"name": "c", "config": {"x": ($S | ascii_downcase | error)}}"#,
    r#"{"name": "c", "config": {"x": ($S | @base64 | error)}}"#,
    r#"{"name": "c", "state": $S, "config": {}}"#,
    r#"{"name": "c", "config": {"name": $S}}"#,
    r#"{"name": "c", "config": {"x": [$S]}}"#,
    r#"{"name": "c", "config": {"x": env.SECRET_ENV}}"#,
    r#"{"name": "c", "config": {"x": (env.SECRET_ENV | ascii_upcase)}}"#,
];

/// Everything a rendered template can show: the printed connector (name,
/// keys, redacted values) or its error.
fn shown(result: &Result<Connector, RenderError>) -> String {
    match result {
        Ok(c) => format!("{} {}", c.name, serde_json::to_string(&c.redacted_config()).unwrap_or_default()),
        Err(e) => e.to_string(),
    }
}

/// The forms of a secret that would give it away.
fn forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let json = serde_json::to_string(secret).unwrap_or_default();
    vec![
        secret.to_string(),
        secret.to_ascii_lowercase(),
        secret.to_ascii_uppercase(),
        base64,
        json.trim_matches('"').to_string(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_secret_reaches_an_output(secret in "[ -~]{4,24}", other in "[a-z]{8}") {
        let render = |value: &str| {
            let vars = BTreeMap::from([("S".to_string(), value.to_string())]);
            let env = BTreeMap::from([("SECRET_ENV".to_string(), value.to_string())]);
            let renderer = Renderer::in_process(Arc::new(ByNamespace::shared(Variables::from_parts(vars, env))));
            let configmap = CmId::new(Some("ns".into()), "cm".into());
            let codes: Vec<ToRender> = EMBEDDINGS.iter().map(|code| ToRender { configmap: &configmap, code }).collect();
            renderer.render_all(&codes)
        };
        // What the outputs say anyway, whatever the secret: a secret found there is no leak.
        let baseline: String = render(&other).iter().map(shown).collect::<Vec<_>>().join("\n");
        for form in forms(&secret) {
            prop_assume!(!baseline.contains(&form) && !EMBEDDINGS.concat().contains(&form));
        }
        for (code, result) in EMBEDDINGS.iter().zip(render(&secret)) {
            let out = shown(&result);
            for form in forms(&secret) {
                prop_assert!(!out.contains(&form), "{code} with {secret:?} shows {form:?}: {out}");
            }
        }
    }
}
