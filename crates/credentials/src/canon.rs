//! JSON-LD document → canonical N-Quads (RDFC-1.0).
//!
//! The pipeline is JSON-LD expansion (`json-ld`), conversion of the expanded
//! document to RDF quads, and RDF Dataset Canonicalization (`rdf-canon`).
//! Three things matter beyond the algorithms themselves:
//!
//! - **Nothing may be silently dropped.** JSON-LD discards properties its
//!   context does not define and statements whose subject or object is a
//!   relative IRI; a signature would then not cover that data. Expansion runs
//!   with a policy that rejects undefined terms, and the expanded document is
//!   searched for references that did not resolve to absolute IRIs.
//! - **Untrusted input is bounded.** Verification canonicalizes documents
//!   anyone can send: input size, nesting depth, the number of quads and the
//!   work the blank-node labelling may do are all capped (see [`Limits`]).
//! - **Speed.** Processing the top-level `@context` costs more than expanding
//!   a small credential, and a server signs many documents with the same
//!   context, so processed contexts are cached per distinct `@context` value.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context as TaskContext, Poll, Waker};

use json_ld::expansion::{self, Action, Policy};
use json_ld::rdf_types::{generator, vocabulary, LiteralType, Term};
use json_ld::syntax::{Parse, TryFromJson};
use json_ld::{
    context_processing, Expand, Id, Iri, IriBuf, LoadError, Loader, Process, ProcessingMode,
    RdfQuads, RemoteDocument, ValidId,
};
use oxrdf::{BlankNode, Dataset, GraphName, Literal, NamedNode, Quad, Subject};
use rdf_canon::CanonicalizationOptions;
use sha2::Sha256;

use crate::contexts::BUNDLED;
use crate::direct::{Direct, Unsupported};
use crate::Error;

const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

/// Processed contexts kept at most; verification sees `@context` values
/// chosen by others, and an unbounded cache would let them grow memory.
const MAX_CACHED_CONTEXTS: usize = 64;

/// Caps on the work one canonicalization may do.
///
/// The defaults accommodate the largest Open Badges credentials seen in
/// practice (an image embedded as a data URL, dozens of endorsements) with a
/// wide margin, while making a crafted document fail in milliseconds instead
/// of occupying a CPU for minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Approximate size of the JSON input in bytes (string and key lengths
    /// plus a few bytes per value).
    pub max_input_bytes: usize,
    /// Maximum nesting depth of JSON arrays and objects. The JSON-LD
    /// algorithms recurse per level, so this also bounds stack use.
    pub max_depth: usize,
    /// Maximum number of RDF quads the document may produce.
    pub max_quads: usize,
    /// Maximum number of calls to the Hash N-Degree Quads step of RDFC-1.0,
    /// the part whose cost grows factorially on symmetric blank-node graphs.
    ///
    /// The largest 1EdTech example credential needs 20 and one with 30
    /// embedded endorsements under 50. The step recurses, up to this many
    /// levels deep: keep it in the hundreds on threads with 2 MiB stacks.
    pub max_hndq_calls: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 8 * 1024 * 1024,
            max_depth: 32,
            max_quads: 10_000,
            max_hndq_calls: 200,
        }
    }
}

/// Loads contexts from memory only.
#[derive(Default)]
pub(crate) struct ContextStore {
    documents: HashMap<IriBuf, RemoteDocument>,
}

impl ContextStore {
    /// The bundled contexts.
    pub(crate) fn bundled() -> Result<Self, Error> {
        let mut store = Self::default();
        for context in BUNDLED {
            store.insert(context.iri, context.document)?;
        }
        Ok(store)
    }

    /// Adds (or replaces) the context document served for `iri`.
    pub(crate) fn insert(&mut self, iri: &str, document: &str) -> Result<(), Error> {
        let url = IriBuf::new(iri.to_owned())
            .map_err(|_| Error::InvalidDocument(format!("`{iri}` is not an absolute IRI")))?;
        let (json, _) = json_ld::syntax::Value::parse_str(document).map_err(|e| {
            Error::InvalidDocument(format!("context `{iri}` is not valid JSON: {e}"))
        })?;
        self.documents
            .insert(url.clone(), RemoteDocument::new(Some(url), None, json));
        Ok(())
    }
}

/// Context documents one operation may load. The top-level `@context` is
/// cached, but every embedded credential (an endorsement, say) names its
/// contexts again, and each load means processing the context again: a
/// credential with a hundred endorsements needs about 200 loads, while a
/// document repeating a reference in thousands of nested objects would cost
/// seconds.
const MAX_CONTEXT_LOADS: usize = 256;

/// A loader for one operation: serves [`ContextStore`] documents, counts
/// loads, and records why it refused one, so the error can say so (the
/// JSON-LD library reports loader failures generically).
struct TrackingLoader<'a> {
    store: &'a ContextStore,
    loads: Cell<usize>,
    refusal: RefCell<Option<Error>>,
}

#[derive(Debug, thiserror::Error)]
#[error("context refused")]
struct Refused;

impl<'a> TrackingLoader<'a> {
    fn new(store: &'a ContextStore) -> Self {
        Self {
            store,
            loads: Cell::new(0),
            refusal: RefCell::new(None),
        }
    }

    fn refuse(&self, url: &Iri, reason: Error) -> LoadError {
        self.refusal.replace(Some(reason));
        LoadError::new(url.to_owned(), Refused)
    }

    /// Maps a JSON-LD failure to the crate error, preferring the loader's
    /// precise diagnosis when it refused a context.
    fn error(&self, failure: impl std::fmt::Display) -> Error {
        self.refusal
            .borrow_mut()
            .take()
            .unwrap_or_else(|| Error::JsonLd(failure.to_string()))
    }
}

impl Loader for TrackingLoader<'_> {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument<IriBuf>, LoadError> {
        let loads = self.loads.get() + 1;
        self.loads.set(loads);
        if loads > MAX_CONTEXT_LOADS {
            return Err(self.refuse(
                url,
                Error::LimitExceeded(format!(
                    "the document refers to contexts more than {MAX_CONTEXT_LOADS} times"
                )),
            ));
        }
        match self.store.documents.get(url) {
            Some(document) => Ok(document.clone()),
            None => Err(self.refuse(url, Error::UnknownContext(url.as_str().to_owned()))),
        }
    }
}

/// Which way a document is canonicalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// The direct route when it supports the document, else the general one.
    Auto,
    /// The direct route only: `Ok(None)` when it does not support the document.
    Direct,
    /// JSON-LD expansion and RDFC-1.0, whatever the document.
    General,
}

/// Canonicalizes JSON-LD documents against a fixed set of contexts.
pub(crate) struct Canonicalizer {
    store: ContextStore,
    processed: RwLock<HashMap<String, Arc<json_ld::Context>>>,
    limits: Limits,
    /// The direct route (see [`crate::direct`]), unless turned off.
    direct: Option<Direct>,
}

impl Canonicalizer {
    pub(crate) fn new(store: ContextStore, limits: Limits, direct: Option<Direct>) -> Self {
        Self {
            store,
            processed: RwLock::new(HashMap::new()),
            limits,
            direct,
        }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Canonical N-Quads of `document` (a JSON object with an `@context`),
    /// by `route`; `None` only for [`Route::Direct`] when the direct route
    /// does not support the document.
    pub(crate) fn canonicalize(
        &self,
        document: &serde_json::Value,
        route: Route,
    ) -> Result<Option<String>, Error> {
        let object = document.as_object().ok_or_else(|| {
            Error::InvalidDocument("a JSON-LD document must be a JSON object".into())
        })?;
        let context = object
            .get("@context")
            .ok_or_else(|| Error::InvalidDocument("the document has no @context".into()))?;
        let entries = object.iter().filter(|(k, _)| *k != "@context");
        match route {
            Route::Auto => self.canonicalize_parts(context, entries).map(Some),
            Route::Direct => self.direct(context, entries),
            Route::General => self.general(context, entries).map(Some),
        }
    }

    /// Canonical N-Quads of the object made of `entries` under `context`:
    /// by the direct route when it supports them, else the general one.
    ///
    /// Taking the entries apart from the context lets callers canonicalize a
    /// document without its proof, or a proof under the document's context,
    /// without cloning either.
    pub(crate) fn canonicalize_parts<'a>(
        &self,
        context: &serde_json::Value,
        entries: impl Iterator<Item = (&'a String, &'a serde_json::Value)> + Clone,
    ) -> Result<String, Error> {
        match self.direct(context, entries.clone())? {
            Some(canonical) => Ok(canonical),
            None => self.general(context, entries),
        }
    }

    /// The direct route; `None` when it is off or does not support the
    /// document. A panic in it (a bug) is contained and means `None`: the
    /// general route then answers.
    fn direct<'a>(
        &self,
        context: &serde_json::Value,
        entries: impl Iterator<Item = (&'a String, &'a serde_json::Value)>,
    ) -> Result<Option<String>, Error> {
        let Some(direct) = &self.direct else {
            return Ok(None);
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            direct.canonicalize(context, entries)
        })) {
            Ok(Ok(Ok(canonical))) => Ok(Some(canonical)),
            Ok(Ok(Err(Unsupported))) | Err(_) => Ok(None),
            Ok(Err(error)) => Err(error),
        }
    }

    /// The general route: JSON-LD expansion, then RDFC-1.0.
    fn general<'a>(
        &self,
        context: &serde_json::Value,
        entries: impl Iterator<Item = (&'a String, &'a serde_json::Value)>,
    ) -> Result<String, Error> {
        let mut budget = Budget::new(&self.limits);
        let mut body = json_ld::syntax::Object::new();
        for (key, value) in entries {
            reject_unknown_keyword(key)?;
            budget.charge(key.len())?;
            body.push(key.as_str().into(), convert(value, 2, &mut budget)?);
        }
        let body = json_ld::syntax::Value::Object(body);
        let depth = budget.deepest.max(nesting_depth(
            context,
            self.limits.max_depth.saturating_add(1),
        ));

        with_stack_for_depth(depth, move || {
            let loader = TrackingLoader::new(&self.store);
            let active_context = self.processed_context(context, &loader)?;
            self.expand_and_canonicalize(body, &active_context, &loader)
        })
    }

    fn expand_and_canonicalize(
        &self,
        body: json_ld::syntax::Value,
        active_context: &json_ld::Context,
        loader: &TrackingLoader<'_>,
    ) -> Result<String, Error> {
        let options = expansion::Options {
            processing_mode: ProcessingMode::JsonLd1_1,
            // Undefined terms fail expansion; references that do not resolve
            // to IRIs are kept and reported by name by the search below.
            policy: Policy {
                invalid: Action::Keep,
                vocab: Action::Keep,
                allow_undefined: false,
            },
            ordered: false,
        };
        let mut expanded = run(body.expand_full(
            vocabulary::no_vocabulary_mut(),
            active_context.clone(),
            None,
            loader,
            options,
            (),
        ))?
        .map_err(|e| match e {
            expansion::Error::KeyExpansionFailed(term) => Error::UndefinedTerm(term),
            other => loader.error(other),
        })?;

        check_nothing_is_dropped(&expanded)?;

        let mut labels = generator::Blank::new_with_prefix("b".to_owned());
        expanded.relabel_and_canonicalize_with(vocabulary::no_vocabulary_mut(), &mut labels);

        let mut dataset = Dataset::new();
        for quad in
            expanded.rdf_quads_full(vocabulary::no_vocabulary_mut(), &mut labels, None, false)
        {
            if dataset.len() >= self.limits.max_quads {
                return Err(Error::LimitExceeded(format!(
                    "the document produces more than {} RDF statements",
                    self.limits.max_quads
                )));
            }
            let json_ld::rdf_types::Quad(subject, predicate, object, graph) = quad;
            let ValidId::Iri(predicate) = predicate.as_ref() else {
                continue; // generalized RDF (blank-node predicates) is not produced
            };
            dataset.insert(&Quad::new(
                subject_of(&subject),
                NamedNode::new_unchecked(predicate.as_str()),
                match object {
                    Term::Id(id) => term_of_id(&id),
                    Term::Literal(literal) => literal_of(literal).into(),
                },
                match graph {
                    None => GraphName::DefaultGraph,
                    Some(ValidId::Iri(iri)) => NamedNode::new_unchecked(iri.as_str()).into(),
                    Some(ValidId::Blank(b)) => BlankNode::new_unchecked(b.suffix()).into(),
                },
            ));
        }

        rdf_canonicalize(&dataset, &self.limits)
    }

    /// The processed form of a top-level `@context` value, from the cache
    /// when this exact value was processed before.
    fn processed_context(
        &self,
        context: &serde_json::Value,
        loader: &TrackingLoader<'_>,
    ) -> Result<Arc<json_ld::Context>, Error> {
        let key = context.to_string();
        if let Some(hit) = self
            .processed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(hit.clone());
        }

        let mut budget = Budget::new(&self.limits);
        let json = convert(context, 1, &mut budget)?;
        let syntax = json_ld::syntax::context::Context::try_from_json(json)
            .map_err(|e| Error::JsonLd(format!("invalid @context: {e}")))?;
        let processed = run(syntax.process_full(
            vocabulary::no_vocabulary_mut(),
            &json_ld::Context::new(None),
            loader,
            None,
            context_processing::Options::default(),
            (),
        ))?
        .map_err(|e| loader.error(e))?;
        let processed = Arc::new(processed.into_processed());

        let mut cache = self
            .processed
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() < MAX_CACHED_CONTEXTS {
            cache.insert(key, processed.clone());
        }
        Ok(processed)
    }
}

/// RDFC-1.0 of `dataset` by `rdf-canon`, its blank-node labelling bounded
/// by `limits`.
pub(crate) fn rdf_canonicalize(dataset: &Dataset, limits: &Limits) -> Result<String, Error> {
    let options = CanonicalizationOptions {
        hndq_call_limit: Some(limits.max_hndq_calls),
    };
    rdf_canon::canonicalize_with::<Sha256>(dataset, &options).map_err(|e| match e {
        rdf_canon::CanonicalizationError::HndqCallLimitExceeded(limit) => {
            Error::Canonicalization(format!(
                "the document's blank nodes are too symmetric to label within {limit} \
                 Hash N-Degree Quads steps; refusing to spend more time on it"
            ))
        }
        other => Error::Canonicalization(other.to_string()),
    })
}

/// Fails on what conversion to RDF would silently leave out: references that
/// did not resolve to absolute IRIs, and properties named by blank node
/// identifiers (not allowed as RDF predicates).
fn check_nothing_is_dropped(expanded: &json_ld::ExpandedDocument) -> Result<(), Error> {
    use json_ld::object::node::{EntryKeyRef, FragmentRef as NodeFragment};
    use json_ld::object::FragmentRef;

    for fragment in expanded.traverse() {
        if let FragmentRef::NodeFragment(NodeFragment::Key(EntryKeyRef::Property(Id::Valid(
            ValidId::Blank(property),
        )))) = &fragment
        {
            return Err(Error::UndefinedTerm(property.to_string()));
        }
        if let Some(Id::Invalid(reference)) = fragment.into_id() {
            return Err(Error::RelativeReference(reference.clone()));
        }
    }
    Ok(())
}

/// Drives a future that never waits.
///
/// The JSON-LD API is async because loaders may fetch over the network; ours
/// answers from memory, so every future completes on its first poll and no
/// executor is needed. A future that does wait would be a bug (a loader that
/// blocks), reported as an error rather than spun on.
fn run<F: Future>(future: F) -> Result<F::Output, Error> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut TaskContext::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(Error::JsonLd(
            "JSON-LD processing tried to wait for I/O; only bundled contexts are available".into(),
        )),
    }
}

/// Stack the JSON-LD algorithms use per level of JSON nesting, measured on
/// the 1EdTech examples and deep synthetic documents with a margin: the
/// expansion recurses through large async state machines, far larger in
/// unoptimized builds.
const STACK_PER_LEVEL: usize = if cfg!(debug_assertions) {
    256 * 1024
} else {
    32 * 1024
};

/// Stack assumed free on the calling thread. Rust and Tokio threads get 2 MiB
/// by default; half is left to the caller.
const INLINE_STACK_BUDGET: usize = 1024 * 1024;

/// Runs `work` on the calling thread when a document of this nesting depth
/// fits in [`INLINE_STACK_BUDGET`], otherwise on a scoped thread with a stack
/// large enough for it: overflowing the stack aborts the whole process, so a
/// deeply nested document must not be able to reach that.
///
/// A panic inside the JSON-LD or canonicalization libraries (a bug there,
/// triggered by some input) becomes an error: the input is untrusted and
/// the caller should answer "invalid", not lose a worker.
fn with_stack_for_depth<T: Send>(
    depth: usize,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    let contained = || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| {
            Err(Error::JsonLd(
                "internal error while processing the document".into(),
            ))
        })
    };
    let needed = depth.saturating_add(2).saturating_mul(STACK_PER_LEVEL);
    if needed <= INLINE_STACK_BUDGET {
        return contained();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("json-ld-deep".into())
            .stack_size(needed.saturating_add(INLINE_STACK_BUDGET))
            .spawn_scoped(scope, contained)
            .map_err(|e| Error::JsonLd(format!("could not start a worker thread: {e}")))?
            .join()
            .unwrap_or_else(|_| {
                Err(Error::JsonLd(
                    "internal error while processing the document".into(),
                ))
            })
    })
}

/// Nesting depth of `value`, counting no further than `cap`.
fn nesting_depth(value: &serde_json::Value, cap: usize) -> usize {
    if cap == 0 {
        return 0;
    }
    match value {
        serde_json::Value::Array(items) => {
            1 + items
                .iter()
                .map(|v| nesting_depth(v, cap - 1))
                .max()
                .unwrap_or(0)
        }
        serde_json::Value::Object(entries) => {
            1 + entries
                .values()
                .map(|v| nesting_depth(v, cap - 1))
                .max()
                .unwrap_or(0)
        }
        _ => 0,
    }
}

/// Remaining allowance for one input conversion.
struct Budget {
    bytes_left: usize,
    max_bytes: usize,
    max_depth: usize,
    deepest: usize,
}

impl Budget {
    fn new(limits: &Limits) -> Self {
        Self {
            bytes_left: limits.max_input_bytes,
            max_bytes: limits.max_input_bytes,
            max_depth: limits.max_depth,
            deepest: 0,
        }
    }

    fn charge(&mut self, bytes: usize) -> Result<(), Error> {
        // A few bytes per value on top of the text, roughly what the
        // serialized JSON spends on quotes, separators and punctuation.
        match self.bytes_left.checked_sub(bytes + 4) {
            Some(left) => {
                self.bytes_left = left;
                Ok(())
            }
            None => Err(Error::LimitExceeded(format!(
                "the document is larger than {} bytes",
                self.max_bytes
            ))),
        }
    }
}

/// Converts serde_json to the JSON-LD library's JSON, charging `budget`.
fn convert(
    value: &serde_json::Value,
    depth: usize,
    budget: &mut Budget,
) -> Result<json_ld::syntax::Value, Error> {
    use json_ld::syntax::Value as J;
    if depth > budget.max_depth {
        return Err(Error::LimitExceeded(format!(
            "the document nests arrays and objects deeper than {} levels",
            budget.max_depth
        )));
    }
    budget.deepest = budget.deepest.max(depth);
    Ok(match value {
        serde_json::Value::Null => {
            budget.charge(0)?;
            J::Null
        }
        serde_json::Value::Bool(b) => {
            budget.charge(1)?;
            J::Boolean(*b)
        }
        serde_json::Value::Number(n) => {
            let lexical = js_number_lexical(n);
            budget.charge(lexical.len())?;
            J::Number(
                json_ld::syntax::NumberBuf::from_str(&lexical)
                    .map_err(|_| Error::InvalidDocument(format!("invalid number `{lexical}`")))?,
            )
        }
        serde_json::Value::String(s) => {
            budget.charge(s.len())?;
            J::String(s.as_str().into())
        }
        serde_json::Value::Array(items) => {
            budget.charge(0)?;
            J::Array(
                items
                    .iter()
                    .map(|item| convert(item, depth + 1, budget))
                    .collect::<Result<_, _>>()?,
            )
        }
        serde_json::Value::Object(entries) => {
            budget.charge(0)?;
            let mut object = json_ld::syntax::Object::new();
            for (key, item) in entries {
                reject_unknown_keyword(key)?;
                budget.charge(key.len())?;
                object.push(key.as_str().into(), convert(item, depth + 1, budget)?);
            }
            J::Object(object)
        }
    })
}

/// JSON-LD 1.1 keywords (framing keywords excluded: they have no meaning in
/// a credential).
const KEYWORDS: &[&str] = &[
    "@base",
    "@container",
    "@context",
    "@direction",
    "@graph",
    "@id",
    "@import",
    "@included",
    "@index",
    "@json",
    "@language",
    "@list",
    "@nest",
    "@none",
    "@prefix",
    "@propagate",
    "@protected",
    "@reverse",
    "@set",
    "@type",
    "@value",
    "@version",
    "@vocab",
];

/// JSON-LD ignores keys that look like keywords but are not (`@foo`), so a
/// signature would not cover them; jsonld.js in safe mode refuses them too.
fn reject_unknown_keyword(key: &str) -> Result<(), Error> {
    if key.starts_with('@') && !KEYWORDS.contains(&key) {
        return Err(Error::UndefinedTerm(key.to_owned()));
    }
    Ok(())
}

/// The lexical form JavaScript would give this number.
///
/// Verifiers mostly run jsonld.js, where JSON numbers are IEEE doubles: `36.0`
/// is the integer 36 and becomes `"36"`, not a double `"3.6E1"`. The JSON-LD
/// library decides integer versus double from the lexical form, so integral
/// values are written without a fraction here.
pub(crate) fn js_number_lexical(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        // also matches -0.0, which JavaScript prints as "0"
        Some(0.0) => "0".to_owned(),
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

fn subject_of(id: &ValidId<IriBuf, json_ld::BlankIdBuf>) -> Subject {
    match id {
        ValidId::Iri(iri) => NamedNode::new_unchecked(iri.as_str()).into(),
        ValidId::Blank(b) => BlankNode::new_unchecked(b.suffix()).into(),
    }
}

fn term_of_id(id: &ValidId<IriBuf, json_ld::BlankIdBuf>) -> oxrdf::Term {
    match id {
        ValidId::Iri(iri) => NamedNode::new_unchecked(iri.as_str()).into(),
        ValidId::Blank(b) => BlankNode::new_unchecked(b.suffix()).into(),
    }
}

fn literal_of(literal: json_ld::rdf_types::Literal) -> Literal {
    match literal.type_ {
        LiteralType::Any(ty) if ty.as_str() == XSD_STRING => {
            Literal::new_simple_literal(literal.value)
        }
        LiteralType::Any(ty) => {
            Literal::new_typed_literal(literal.value, NamedNode::new_unchecked(ty.as_str()))
        }
        // jsonld.js lowercases language tags during expansion; verifiers
        // hash what it produces.
        LiteralType::LangString(tag) => Literal::new_language_tagged_literal_unchecked(
            literal.value,
            tag.as_str().to_ascii_lowercase(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_javascript() {
        let lexical = |text: &str| {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            match value {
                serde_json::Value::Number(n) => js_number_lexical(&n),
                _ => unreachable!(),
            }
        };
        assert_eq!(lexical("36.0"), "36");
        assert_eq!(lexical("-0.0"), "0");
        assert_eq!(lexical("42.5"), "42.5");
        assert_eq!(lexical("7"), "7");
        assert_eq!(lexical("1e21"), "1e+21");
    }
}
