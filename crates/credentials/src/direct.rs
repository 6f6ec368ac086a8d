//! Canonical N-Quads straight from JSON, without JSON-LD expansion.
//!
//! The general route ([`crate::canon`]) expands a document with a complete
//! JSON-LD processor, converts it to RDF and runs RDFC-1.0; expansion and
//! the library's copying of the active context are most of the time a
//! signature takes. The documents this server signs use a small part of
//! JSON-LD: lists of bundled context IRIs (at the top, and again in nested
//! credentials such as embedded endorsements), terms defined with `@id`, `@type`
//! (`@id`, `@vocab` or a datatype), `@container` (`@set`, `@list`, `@graph`)
//! and type- or property-scoped `@context`s, `@protected`, and the `id` and
//! `type` aliases. This module implements exactly that part:
//!
//! 1. **Contexts.** Each bundled context document is processed by a small
//!    context processor that understands those features and nothing else.
//!    A context using anything more (`@vocab`, `@base`, `@language`,
//!    `@import`, `@propagate`, prefixes used in compact IRIs, `@json`
//!    values, ...) makes the document *unsupported*. Processed contexts,
//!    and the results of applying a scoped context to one, are cached.
//! 2. **Quads.** The document is walked once, following the JSON-LD 1.1
//!    expansion rules for that subset (type-scoped contexts apply to their
//!    node only, property-scoped ones to everything below, protected terms
//!    cannot be redefined differently, `id` values must be absolute IRIs,
//!    `type` values defined terms or absolute IRIs), and the RDF statements
//!    are produced as JSON-LD's RDF conversion would produce them (typed
//!    literals, numbers in their XML Schema forms, `@list` as `rdf:first` /
//!    `rdf:rest`, `@graph` containers as blank-node named graphs).
//! 3. **Blank nodes.** RDFC-1.0 first labels every blank node whose Hash
//!    First Degree Quads is unique, in the order of those hashes; only
//!    nodes sharing a hash need the expensive N-degree step. When every
//!    hash is unique (the usual case: the blank nodes of a credential
//!    differ in their content) the labels are issued here, which *is*
//!    RDFC-1.0 for such a dataset; otherwise the quads go to `rdf-canon`,
//!    which runs the whole algorithm on them.
//!
//! Anything else (an undefined term, a context not bundled, a value of an
//! unexpected shape, a relative IRI, a number two decimal readers could
//! read differently, a document close to a [`Limits`] bound) is
//! [`Unsupported`]: the caller takes the general route, which
//! produces the same bytes or the precise error. Property tests and the
//! shared fixtures check that both routes agree byte for byte.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::canon::{js_number_lexical, Limits};
use crate::Error;

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";

/// The document is outside what this module handles; the general route
/// decides (and produces either the same output or an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsupported;

type Outcome<T> = Result<T, Unsupported>;

/// Cached entries kept at most per cache; a full cache is emptied (what is
/// in use comes back at once). The server's own documents need a few
/// dozen; documents sent for verification could name many combinations of
/// contexts, and each processed context holds some 10 KiB.
const MAX_CACHED: usize = 256;

/// Longest top-level `@context` text cached (the server's are ~150 bytes).
const MAX_CACHED_KEY: usize = 1024;

/// How a term's string values become RDF terms.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Coercion {
    /// Plain literals (`xsd:string`), numbers and booleans in their types.
    None,
    /// `@type: @id`: document-relative IRIs.
    Id,
    /// `@type: @vocab`: terms, else IRIs.
    Vocab,
    /// `@type: <datatype>`: typed literals.
    Datatype(Arc<str>),
    /// `@type: @json`: JSON literals, which this module does not produce.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    None,
    Set,
    List,
    Graph,
}

/// What a term means.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Meaning {
    /// An alias of `@id`.
    Id,
    /// An alias of `@type`.
    Type,
    /// A property or class IRI.
    Iri(Arc<str>),
}

/// A scoped `@context` (an object), with an identity for the caches.
#[derive(Debug)]
struct Local {
    id: u64,
    value: Map<String, Value>,
}

impl PartialEq for Local {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

#[derive(Debug, Clone, PartialEq)]
struct TermDef {
    meaning: Meaning,
    coercion: Coercion,
    container: Container,
    scoped: Option<Arc<Local>>,
    prefix: bool,
    protected: bool,
}

impl TermDef {
    /// Equal as the protected-term rule compares them: all but `protected`.
    fn same_as(&self, other: &TermDef) -> bool {
        self.meaning == other.meaning
            && self.coercion == other.coercion
            && self.container == other.container
            && self.scoped == other.scoped
            && self.prefix == other.prefix
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// An active context: term definitions, with an identity for the caches.
#[derive(Debug)]
struct Ctx {
    id: u64,
    terms: HashMap<String, Arc<TermDef>>,
}

impl Ctx {
    fn get(&self, term: &str) -> Option<&Arc<TermDef>> {
        self.terms.get(term)
    }
}

/// `(active context, scoped context, override protected)`, by their ids.
type Application = (u64, u64, bool);

/// Canonicalizes the documents it supports; shared across threads.
pub(crate) struct Direct {
    /// Bundled (and builder-added) context documents by IRI: their
    /// `@context` member.
    documents: HashMap<String, Arc<Local>>,
    limits: Limits,
    /// Processed top-level `@context` values, by their JSON text.
    top: RwLock<HashMap<String, Option<Arc<Ctx>>>>,
    /// Scoped contexts applied to active contexts.
    applied: RwLock<HashMap<Application, Option<Arc<Ctx>>>>,
}

impl Direct {
    /// `documents` maps context IRIs to context documents (JSON text);
    /// documents that do not parse are left out (they make every document
    /// naming them unsupported, and the general route reports why).
    pub(crate) fn new<'a>(
        documents: impl IntoIterator<Item = (&'a str, &'a str)>,
        limits: Limits,
    ) -> Self {
        let documents = documents
            .into_iter()
            .filter_map(|(iri, text)| {
                let mut value: Value = serde_json::from_str(text).ok()?;
                match value.get_mut("@context").map(Value::take) {
                    Some(Value::Object(context)) => Some((
                        iri.to_owned(),
                        Arc::new(Local {
                            id: next_id(),
                            value: context,
                        }),
                    )),
                    _ => None,
                }
            })
            .collect();
        Self {
            documents,
            limits,
            top: RwLock::new(HashMap::new()),
            applied: RwLock::new(HashMap::new()),
        }
    }

    /// Canonical N-Quads of the object made of `entries` under `context`,
    /// or [`Unsupported`]. `Err(Error)` only from the RDFC-1.0 step of
    /// `rdf-canon` (a blank-node graph too symmetric to label in bounds),
    /// which the general route would hit as well.
    pub(crate) fn canonicalize<'a>(
        &self,
        context: &Value,
        entries: impl Iterator<Item = (&'a String, &'a Value)>,
    ) -> Result<Outcome<String>, Error> {
        let Ok(active) = self.top_context(context) else {
            return Ok(Err(Unsupported));
        };
        let mut walk = Walk {
            direct: self,
            quads: Vec::new(),
            blanks: 0,
            bytes: 0,
        };
        let entries: Vec<(&'a String, &'a Value)> = entries.collect();
        if walk.node(&entries, &active, None, &None, 1).is_err()
            || walk.quads.len() > self.limits.max_quads / 2
        {
            return Ok(Err(Unsupported));
        }
        label_and_serialize(walk.quads, walk.blanks, &self.limits).map(Ok)
    }

    fn top_context(&self, context: &Value) -> Outcome<Arc<Ctx>> {
        let key = context.to_string();
        if let Some(hit) = self
            .top
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return hit.clone().ok_or(Unsupported);
        }
        let processed = self.process_top(context).ok();
        if key.len() <= MAX_CACHED_KEY {
            let mut cache = self.top.write().unwrap_or_else(PoisonError::into_inner);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, processed.clone());
        }
        processed.ok_or(Unsupported)
    }

    fn process_top(&self, context: &Value) -> Outcome<Arc<Ctx>> {
        let empty = Arc::new(Ctx {
            id: next_id(),
            terms: HashMap::new(),
        });
        self.apply_references(&empty, context)
    }

    /// `ctx` with the contexts named by `context` (an IRI or a list of
    /// IRIs of bundled contexts) applied, as a top-level or embedded
    /// `@context` is: in order, protected terms kept.
    fn apply_references(&self, ctx: &Arc<Ctx>, context: &Value) -> Outcome<Arc<Ctx>> {
        let iris: &[Value] = match context {
            Value::String(_) => std::slice::from_ref(context),
            Value::Array(items) if !items.is_empty() => items,
            _ => return Err(Unsupported),
        };
        let mut ctx = ctx.clone();
        for iri in iris {
            let iri = iri.as_str().ok_or(Unsupported)?;
            let document = self.documents.get(iri).ok_or(Unsupported)?;
            ctx = self.apply(&ctx, document, false)?;
        }
        Ok(ctx)
    }

    /// `ctx` with the scoped context `local` applied (cached).
    fn apply(
        &self,
        ctx: &Arc<Ctx>,
        local: &Arc<Local>,
        override_protected: bool,
    ) -> Outcome<Arc<Ctx>> {
        let key = (ctx.id, local.id, override_protected);
        if let Some(hit) = self
            .applied
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return hit.clone().ok_or(Unsupported);
        }
        let result = {
            let mut next = Ctx {
                id: next_id(),
                terms: ctx.terms.clone(),
            };
            define_all(&mut next, &local.value, override_protected)
                .ok()
                .map(|()| Arc::new(next))
        };
        let mut cache = self.applied.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, result.clone());
        result.ok_or(Unsupported)
    }
}

/// Characters after which a simple term definition's IRI makes the term
/// usable as a prefix (JSON-LD 1.1, Create Term Definition).
fn ends_with_gen_delim(iri: &str) -> bool {
    iri.ends_with([':', '/', '?', '#', '[', ']', '@'])
}

/// Processes the local context `local` into `ctx`.
fn define_all(ctx: &mut Ctx, local: &Map<String, Value>, override_protected: bool) -> Outcome<()> {
    let mut default_protected = false;
    for (key, value) in local {
        match key.as_str() {
            "@protected" => default_protected = value.as_bool().ok_or(Unsupported)?,
            "@version" if value.as_f64() == Some(1.1) => {}
            other if other.starts_with('@') => return Err(Unsupported),
            _ => {}
        }
    }
    let mut defining = HashSet::new();
    let mut defined = HashSet::new();
    for term in local.keys() {
        if !term.starts_with('@') {
            define(
                ctx,
                local,
                term,
                default_protected,
                override_protected,
                &mut defining,
                &mut defined,
            )?;
        }
    }
    Ok(())
}

/// Create Term Definition, for the supported subset.
fn define(
    ctx: &mut Ctx,
    local: &Map<String, Value>,
    term: &str,
    default_protected: bool,
    override_protected: bool,
    defining: &mut HashSet<String>,
    defined: &mut HashSet<String>,
) -> Outcome<()> {
    if defined.contains(term) {
        return Ok(());
    }
    if !defining.insert(term.to_owned()) {
        return Err(Unsupported); // cyclic definition
    }
    // Terms that look like IRIs or compact IRIs bring rules of their own.
    if term.is_empty() || term.contains([':', '/']) {
        return Err(Unsupported);
    }
    let value = local.get(term).ok_or(Unsupported)?;
    let (id, entries, simple) = match value {
        Value::String(id) => (id.as_str(), None, true),
        Value::Object(entries) => {
            let id = match entries.get("@id") {
                Some(Value::String(id)) => id.as_str(),
                _ => return Err(Unsupported),
            };
            (id, Some(entries), false)
        }
        _ => return Err(Unsupported),
    };
    let mut protected = default_protected;
    let mut coercion = Coercion::None;
    let mut container = Container::None;
    let mut scoped = None;
    if let Some(entries) = entries {
        for (key, entry) in entries {
            match (key.as_str(), entry) {
                ("@id", _) => {}
                ("@protected", Value::Bool(flag)) => protected = *flag,
                ("@type", Value::String(kind)) => {
                    coercion = match kind.as_str() {
                        "@id" => Coercion::Id,
                        "@vocab" => Coercion::Vocab,
                        "@json" => Coercion::Json,
                        other if other.starts_with('@') => return Err(Unsupported),
                        other => Coercion::Datatype(
                            expand_in_definition(
                                ctx,
                                local,
                                other,
                                defining,
                                defined,
                                default_protected,
                                override_protected,
                            )?
                            .into(),
                        ),
                    }
                }
                ("@container", container_value) => {
                    let name = match container_value {
                        Value::String(name) => name.as_str(),
                        Value::Array(items) if items.len() == 1 => {
                            items[0].as_str().ok_or(Unsupported)?
                        }
                        _ => return Err(Unsupported),
                    };
                    container = match name {
                        "@set" => Container::Set,
                        "@list" => Container::List,
                        "@graph" => Container::Graph,
                        _ => return Err(Unsupported),
                    };
                }
                ("@context", Value::Object(context)) => {
                    scoped = Some(Arc::new(Local {
                        id: next_id(),
                        value: context.clone(),
                    }));
                }
                _ => return Err(Unsupported),
            }
        }
    }
    let meaning = match id {
        "@id" | "@type" => {
            if entries.is_some_and(|e| e.len() > 1) {
                return Err(Unsupported);
            }
            if id == "@id" {
                Meaning::Id
            } else {
                Meaning::Type
            }
        }
        other if other.starts_with('@') => return Err(Unsupported),
        other => Meaning::Iri(
            expand_in_definition(
                ctx,
                local,
                other,
                defining,
                defined,
                default_protected,
                override_protected,
            )?
            .into(),
        ),
    };
    let prefix = simple && matches!(&meaning, Meaning::Iri(iri) if ends_with_gen_delim(iri));
    let definition = TermDef {
        meaning,
        coercion,
        container,
        scoped,
        prefix,
        protected,
    };
    if let Some(previous) = ctx.get(term) {
        if previous.protected && !override_protected {
            if !previous.same_as(&definition) {
                return Err(Unsupported); // a protected term redefinition error
            }
            // The previous definition stays, protected.
            defining.remove(term);
            defined.insert(term.to_owned());
            return Ok(());
        }
    }
    ctx.terms.insert(term.to_owned(), Arc::new(definition));
    defining.remove(term);
    defined.insert(term.to_owned());
    Ok(())
}

/// IRI expansion of an `@id` or `@type` value inside a term definition
/// (vocabulary-relative, terms of the local context defined first).
fn expand_in_definition(
    ctx: &mut Ctx,
    local: &Map<String, Value>,
    value: &str,
    defining: &mut HashSet<String>,
    defined: &mut HashSet<String>,
    default_protected: bool,
    override_protected: bool,
) -> Outcome<String> {
    if local.contains_key(value) && !value.starts_with('@') {
        define(
            ctx,
            local,
            value,
            default_protected,
            override_protected,
            defining,
            defined,
        )?;
    }
    if let Some(definition) = ctx.get(value) {
        return match &definition.meaning {
            Meaning::Iri(iri) => Ok(iri.to_string()),
            _ => Err(Unsupported),
        };
    }
    absolute_iri(value, |prefix| {
        local.contains_key(prefix) || ctx.get(prefix).is_some()
    })
    .map(str::to_owned)
}

/// `value` as an absolute IRI, when it is one and cannot be read as a
/// compact IRI or blank node identifier (`is_term` says whether a prefix
/// is a defined term).
fn absolute_iri(value: &str, is_term: impl Fn(&str) -> bool) -> Outcome<&str> {
    let colon = value.find(':').ok_or(Unsupported)?;
    if colon == 0 || value.starts_with("_:") || value.starts_with('@') {
        return Err(Unsupported);
    }
    if is_term(&value[..colon]) {
        return Err(Unsupported);
    }
    if json_ld::Iri::new(value).is_err() {
        return Err(Unsupported);
    }
    Ok(value)
}

/// A subject or graph name of the produced quads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Node<'a> {
    Iri(Text<'a>),
    Blank(u32),
}

/// An object of the produced quads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Term<'a> {
    Node(Node<'a>),
    Literal {
        value: Cow<'a, str>,
        /// `None` for `xsd:string`.
        datatype: Option<Text<'a>>,
    },
}

/// Text borrowed from the document or shared with a context.
#[derive(Debug, Clone)]
enum Text<'a> {
    Borrowed(&'a str),
    Shared(Arc<str>),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(text) => text,
            Text::Shared(text) => text,
        }
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}
impl Eq for Text<'_> {}
impl PartialOrd for Text<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Text<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}
impl std::hash::Hash for Text<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct RawQuad<'a> {
    subject: Node<'a>,
    predicate: Text<'a>,
    object: Term<'a>,
    graph: Option<Node<'a>>,
}

/// One walk over a document.
struct Walk<'d, 'a> {
    direct: &'d Direct,
    quads: Vec<RawQuad<'a>>,
    blanks: u32,
    /// Approximate size of the input, as the general route counts it.
    bytes: usize,
}

impl<'a> Walk<'_, 'a> {
    fn blank(&mut self) -> Node<'a> {
        self.blanks += 1;
        Node::Blank(self.blanks - 1)
    }

    fn charge(&mut self, bytes: usize) -> Outcome<()> {
        self.bytes = self.bytes.saturating_add(bytes + 4);
        // Half the limit: what is near it is left to the general route,
        // which applies the limits precisely.
        if self.bytes > self.direct.limits.max_input_bytes / 2 {
            return Err(Unsupported);
        }
        Ok(())
    }

    fn emit(
        &mut self,
        subject: &Node<'a>,
        predicate: &Text<'a>,
        object: Term<'a>,
        graph: &Option<Node<'a>>,
    ) {
        self.quads.push(RawQuad {
            subject: subject.clone(),
            predicate: predicate.clone(),
            object,
            graph: graph.clone(),
        });
    }

    /// Expands the node object made of `entries` (JSON-LD 1.1 Expansion,
    /// steps 7 to 13, for the supported subset) and emits its statements
    /// into `graph`. `propagated` is the parent's active context without
    /// the parent's type-scoped contexts (what a node object reverts to),
    /// `property` the definition of the property whose value this node is.
    /// Returns the node's subject.
    fn node(
        &mut self,
        entries: &[(&'a String, &'a Value)],
        propagated: &Arc<Ctx>,
        property: Option<&TermDef>,
        graph: &Option<Node<'a>>,
        depth: usize,
    ) -> Outcome<Node<'a>> {
        // Deeply nested input is left to the general route and its limit.
        if depth + 2 > self.direct.limits.max_depth {
            return Err(Unsupported);
        }
        // The property-scoped context applies on top of the reverted one,
        // then an embedded `@context` (a nested credential names its own).
        let mut base = match property.and_then(|p| p.scoped.as_ref()) {
            Some(local) => self.direct.apply(propagated, local, true)?,
            None => propagated.clone(),
        };
        let mut entries: Vec<(&'a String, &'a Value)> = entries.to_vec();
        if let Some(position) = entries.iter().position(|(key, _)| *key == "@context") {
            if property.is_none() {
                return Err(Unsupported); // the caller took the top-level one out
            }
            let (_, context) = entries.remove(position);
            base = self.direct.apply_references(&base, context)?;
        }
        let entries = entries.as_slice();

        // Types, and the contexts they scope, in lexicographic order; the
        // types themselves are expanded in the context before those.
        let mut types: Vec<&'a str> = Vec::new();
        let mut type_key = None;
        for (key, value) in entries {
            if key.starts_with('@') {
                return Err(Unsupported);
            }
            if base.get(key).map(|d| &d.meaning) == Some(&Meaning::Type) {
                if type_key.is_some() {
                    return Err(Unsupported);
                }
                type_key = Some(key.as_str());
                match value {
                    Value::String(t) => types.push(t),
                    Value::Array(items) if !items.is_empty() => {
                        for item in items {
                            types.push(item.as_str().ok_or(Unsupported)?);
                        }
                    }
                    _ => return Err(Unsupported),
                }
            }
        }
        let mut sorted = types.clone();
        sorted.sort_unstable();
        let mut active = base.clone();
        for t in &sorted {
            if let Some(local) = base.get(t).and_then(|d| d.scoped.clone()) {
                active = self.direct.apply(&active, &local, false)?;
            }
        }
        // A type-scoped context that made `type` mean something else would
        // need rules this module does not follow.
        if type_key.is_some_and(|key| active.get(key).map(|d| &d.meaning) != Some(&Meaning::Type)) {
            return Err(Unsupported);
        }

        // The subject: the `id` value, or a new blank node.
        let mut subject = None;
        let mut has_properties = false;
        for (key, value) in entries {
            let Some(definition) = active.get(key) else {
                return Err(Unsupported); // an undefined term
            };
            match (&definition.meaning, value) {
                (Meaning::Id, Value::String(id)) if subject.is_none() => {
                    self.charge(key.len())?;
                    self.charge(id.len())?;
                    subject = Some(Node::Iri(Text::Borrowed(expand_id(&active, id)?)));
                }
                (Meaning::Id, _) => return Err(Unsupported),
                (Meaning::Type, _) if Some(key.as_str()) != type_key => return Err(Unsupported),
                _ => has_properties = true,
            }
        }
        if !has_properties {
            // A nested node with an id only is a reference: the statement
            // naming it, none of its own. A top-level one is dropped by
            // JSON-LD, one alone in a graph container makes an empty
            // graph, and an empty node becomes a blank node or nothing
            // depending on where it is: nothing the server writes.
            return match subject {
                Some(subject) if property.is_some_and(|p| p.container != Container::Graph) => {
                    Ok(subject)
                }
                _ => Err(Unsupported),
            };
        }
        let subject = match subject {
            Some(subject) => subject,
            None => self.blank(),
        };

        for (key, value) in entries {
            let definition = active.get(key).ok_or(Unsupported)?.clone();
            match &definition.meaning {
                Meaning::Id => {}
                Meaning::Type => {
                    self.charge(key.len())?;
                    let predicate = Text::Borrowed(RDF_TYPE);
                    for t in &types {
                        self.charge(t.len())?;
                        let iri = expand_vocab(&base, t)?;
                        self.emit(&subject, &predicate, Term::Node(Node::Iri(iri)), graph);
                    }
                }
                Meaning::Iri(iri) => {
                    self.charge(key.len())?;
                    let predicate = Text::Shared(iri.clone());
                    let scope = Scope {
                        active: &active,
                        propagated: &base,
                        definition: &definition,
                    };
                    self.property(&subject, &predicate, &scope, value, graph, depth)?;
                }
            }
        }
        Ok(subject)
    }

    /// Emits the statements of one property's value.
    fn property(
        &mut self,
        subject: &Node<'a>,
        predicate: &Text<'a>,
        scope: &Scope<'_>,
        value: &'a Value,
        graph: &Option<Node<'a>>,
        depth: usize,
    ) -> Outcome<()> {
        let items: &'a [Value] = match value {
            Value::Array(items) => {
                self.charge(0)?;
                items
            }
            single => std::slice::from_ref(single),
        };
        let depth = if value.is_array() {
            depth + 2
        } else {
            depth + 1
        };
        match scope.definition.container {
            Container::List => {
                let mut objects = Vec::with_capacity(items.len());
                for item in items {
                    objects.push(self.value(item, scope, graph, depth)?);
                }
                let head = self.list(objects, graph);
                self.emit(subject, predicate, head, graph);
            }
            Container::Graph => {
                for item in items {
                    if !item.is_object() {
                        return Err(Unsupported);
                    }
                    let name = Some(self.blank());
                    self.value(item, scope, &name, depth)?;
                    if let Some(name) = name {
                        self.emit(subject, predicate, Term::Node(name), graph);
                    }
                }
            }
            Container::None | Container::Set => {
                for item in items {
                    let object = self.value(item, scope, graph, depth)?;
                    self.emit(subject, predicate, object, graph);
                }
            }
        }
        Ok(())
    }

    /// An `rdf:first` / `rdf:rest` list of `objects`; its head.
    fn list(&mut self, objects: Vec<Term<'a>>, graph: &Option<Node<'a>>) -> Term<'a> {
        let mut next = Term::Node(Node::Iri(Text::Borrowed(RDF_NIL)));
        let (first, rest) = (Text::Borrowed(RDF_FIRST), Text::Borrowed(RDF_REST));
        for object in objects.into_iter().rev() {
            let node = self.blank();
            self.emit(&node, &first, object, graph);
            self.emit(&node, &rest, next, graph);
            next = Term::Node(node);
        }
        next
    }

    /// The RDF term of one value of the property `scope` describes.
    fn value(
        &mut self,
        item: &'a Value,
        scope: &Scope<'_>,
        graph: &Option<Node<'a>>,
        depth: usize,
    ) -> Outcome<Term<'a>> {
        let definition = scope.definition;
        match item {
            Value::Object(entries) => {
                self.charge(0)?;
                let entries: Vec<(&'a String, &'a Value)> = entries.iter().collect();
                self.node(&entries, scope.propagated, Some(definition), graph, depth)
                    .map(Term::Node)
            }
            Value::String(text) => {
                self.charge(text.len())?;
                match &definition.coercion {
                    Coercion::None => Ok(Term::Literal {
                        value: Cow::Borrowed(text),
                        datatype: None,
                    }),
                    Coercion::Datatype(datatype) => Ok(Term::Literal {
                        value: Cow::Borrowed(text),
                        datatype: (&**datatype != XSD_STRING)
                            .then(|| Text::Shared(datatype.clone())),
                    }),
                    Coercion::Id => {
                        let scalar = self.scalar_context(scope)?;
                        Ok(Term::Node(Node::Iri(Text::Borrowed(expand_id(
                            &scalar, text,
                        )?))))
                    }
                    Coercion::Vocab => {
                        let scalar = self.scalar_context(scope)?;
                        Ok(Term::Node(Node::Iri(expand_vocab(&scalar, text)?)))
                    }
                    Coercion::Json => Err(Unsupported),
                }
            }
            Value::Number(number) => {
                let lexical = js_number_lexical(number);
                self.charge(lexical.len())?;
                let datatype = match &definition.coercion {
                    Coercion::None => None,
                    Coercion::Datatype(datatype) if &**datatype != XSD_STRING => {
                        Some(datatype.clone())
                    }
                    _ => return Err(Unsupported),
                };
                // As the general route: the number is read as a double and
                // written as JavaScript would (so integers beyond 2^53 lose
                // their last digits); what then reads as a 64-bit integer
                // stays an integer unless typed xsd:double, anything else
                // becomes a canonical double.
                let as_double = datatype.as_deref() == Some(XSD_DOUBLE);
                if !reads_exactly(&lexical) {
                    return Err(Unsupported);
                }
                let float: f64 = lexical.parse().map_err(|_| Unsupported)?;
                let integer = integral_javascript(float).filter(|n| n.parse::<i64>().is_ok());
                let (value, preferred) = match integer {
                    Some(integer) if !as_double => (integer, XSD_INTEGER),
                    _ => (canonical_double(float).ok_or(Unsupported)?, XSD_DOUBLE),
                };
                Ok(Term::Literal {
                    value: Cow::Owned(value),
                    datatype: Some(match datatype {
                        Some(datatype) => Text::Shared(datatype),
                        None => Text::Borrowed(preferred),
                    }),
                })
            }
            Value::Bool(flag) => {
                self.charge(1)?;
                let datatype = match &definition.coercion {
                    Coercion::None => Text::Borrowed(XSD_BOOLEAN),
                    Coercion::Datatype(datatype) if &**datatype != XSD_STRING => {
                        Text::Shared(datatype.clone())
                    }
                    _ => return Err(Unsupported),
                };
                Ok(Term::Literal {
                    value: Cow::Borrowed(if *flag { "true" } else { "false" }),
                    datatype: Some(datatype),
                })
            }
            // Nulls are dropped and nested arrays flattened by JSON-LD;
            // neither is something this server writes.
            Value::Null | Value::Array(_) => Err(Unsupported),
        }
    }

    /// The context a scalar value of the property is expanded in: the
    /// active one with the property-scoped context applied.
    fn scalar_context(&self, scope: &Scope<'_>) -> Outcome<Arc<Ctx>> {
        match &scope.definition.scoped {
            Some(local) => self.direct.apply(scope.active, local, true),
            None => Ok(scope.active.clone()),
        }
    }
}

/// Where a property's values are expanded.
struct Scope<'s> {
    /// The node's active context (with its type-scoped contexts).
    active: &'s Arc<Ctx>,
    /// The node's context without them: what nested nodes revert to.
    propagated: &'s Arc<Ctx>,
    /// The property's definition in `active`.
    definition: &'s TermDef,
}

/// Document-relative IRI expansion of an `@id` value: absolute IRIs only.
fn expand_id<'a>(ctx: &Ctx, value: &'a str) -> Outcome<&'a str> {
    if ctx.get(value).is_some() {
        return Err(Unsupported);
    }
    absolute_iri(value, |prefix| ctx.get(prefix).is_some())
}

/// Vocabulary-relative IRI expansion: a defined term, else an absolute IRI.
fn expand_vocab<'a>(ctx: &Ctx, value: &'a str) -> Outcome<Text<'a>> {
    if let Some(definition) = ctx.get(value) {
        return match &definition.meaning {
            Meaning::Iri(iri) => Ok(Text::Shared(iri.clone())),
            _ => Err(Unsupported),
        };
    }
    absolute_iri(value, |prefix| ctx.get(prefix).is_some()).map(Text::Borrowed)
}

/// Whether every decimal-to-double reading of `lexical` gives the same
/// double: an integer up to 2^53, or at most 15 significant digits and a
/// power of ten within ±22, so that the value is one correctly rounded
/// operation on exact operands (Clinger's fast path). The general route reads numbers with a fast,
/// not always correctly rounded parser; outside this domain the two
/// routes could read different doubles, so such numbers are left to it.
fn reads_exactly(lexical: &str) -> bool {
    let unsigned = lexical.strip_prefix('-').unwrap_or(lexical);
    let (number, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((number, exponent)) => match exponent.trim_start_matches('+').parse::<i32>() {
            Ok(exponent) => (number, exponent),
            Err(_) => return false,
        },
        None => (unsigned, 0),
    };
    let (integer, fraction) = number.split_once('.').unwrap_or((number, ""));
    if !(integer
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let digits = format!("{integer}{fraction}");
    let significant = digits.trim_start_matches('0');
    let trimmed = significant.trim_end_matches('0');
    // The mantissa as an integer and the power of ten applied to it.
    let power = exponent - fraction.len() as i32 + (significant.len() - trimmed.len()) as i32;
    let fits = if fraction.is_empty() && exponent == 0 {
        // An integer: read exactly up to 2^53.
        significant.is_empty() || significant.parse::<u64>().is_ok_and(|m| m <= 1 << 53)
    } else {
        // A 16-digit mantissa below 2^53 should be exact too, but the
        // general route's reader was seen to round some differently.
        trimmed.len() <= 15
    };
    fits && (-22..=22).contains(&power)
}

/// How JavaScript writes `value` when that is an integer without exponent
/// (integral and below 10^21 in magnitude): the shortest digits that read
/// back as the value, padded with zeros.
fn integral_javascript(value: f64) -> Option<String> {
    if !value.is_finite() || value.fract() != 0.0 || value.abs() >= 1e21 {
        return None;
    }
    if value == 0.0 {
        return Some("0".to_owned());
    }
    let formatted = format!("{value:e}");
    let (mantissa, exponent) = formatted.split_once('e')?;
    let exponent: usize = exponent.parse().ok()?;
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let zeros = (exponent + 1).checked_sub(digits.len())?;
    Some(format!("{sign}{digits}{}", "0".repeat(zeros)))
}

/// The XML Schema canonical form of a double as JSON-LD writes it:
/// `4.25E1`, `1.0E21` (the shortest digits that read back as the value).
fn canonical_double(value: f64) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let formatted = format!("{value:E}");
    let (mantissa, exponent) = formatted.split_once('E')?;
    Some(if mantissa.contains('.') {
        formatted
    } else {
        format!("{mantissa}.0E{exponent}")
    })
}

/// Writes a subject or graph name; `label` writes a blank node's label.
fn write_node(out: &mut String, node: &Node<'_>, label: &impl Fn(&mut String, u32)) {
    match node {
        Node::Iri(iri) => {
            out.push('<');
            out.push_str(iri.as_str());
            out.push('>');
        }
        Node::Blank(id) => {
            out.push_str("_:");
            label(out, *id);
        }
    }
}

fn write_term(out: &mut String, term: &Term<'_>, label: &impl Fn(&mut String, u32)) {
    match term {
        Term::Node(node) => write_node(out, node, label),
        Term::Literal { value, datatype } => {
            write_quoted(out, value);
            if let Some(datatype) = datatype {
                out.push_str("^^<");
                out.push_str(datatype.as_str());
                out.push('>');
            }
        }
    }
}

/// A string literal as RDFC-1.0 (and `oxrdf`, which `rdf-canon` uses)
/// writes it.
fn write_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0'..='\u{1F}' | '\u{7F}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// The quad without its terminating ` .`.
fn write_quad(out: &mut String, quad: &RawQuad<'_>, label: &impl Fn(&mut String, u32)) {
    write_node(out, &quad.subject, label);
    out.push_str(" <");
    out.push_str(quad.predicate.as_str());
    out.push_str("> ");
    write_term(out, &quad.object, label);
    if let Some(graph) = &quad.graph {
        out.push(' ');
        write_node(out, graph, label);
    }
}

/// The blank nodes of a quad, once per position they take (as `rdf-canon`
/// builds its blank node to quads map).
fn blanks_of(quad: &RawQuad<'_>) -> impl Iterator<Item = u32> {
    let subject = match quad.subject {
        Node::Blank(id) => Some(id),
        Node::Iri(_) => None,
    };
    let object = match quad.object {
        Term::Node(Node::Blank(id)) => Some(id),
        _ => None,
    };
    let graph = match quad.graph {
        Some(Node::Blank(id)) => Some(id),
        _ => None,
    };
    [subject, object, graph].into_iter().flatten()
}

/// RDFC-1.0 labels and the canonical N-Quads.
fn label_and_serialize(
    mut quads: Vec<RawQuad<'_>>,
    blanks: u32,
    limits: &Limits,
) -> Result<String, Error> {
    // A dataset is a set.
    quads.sort_unstable();
    quads.dedup();

    // The blank node to quads map (RDFC-1.0 4.4.3 step 2).
    let mut mentions: Vec<Vec<usize>> = vec![Vec::new(); blanks as usize];
    for (index, quad) in quads.iter().enumerate() {
        for id in blanks_of(quad) {
            mentions[id as usize].push(index);
        }
    }

    // Hash First Degree Quads of every blank node (4.6).
    let mut hashes: Vec<([u8; 32], u32)> = Vec::with_capacity(blanks as usize);
    for (id, indices) in mentions.iter().enumerate() {
        let id = id as u32;
        if indices.is_empty() {
            continue;
        }
        let mut lines: Vec<String> = indices
            .iter()
            .map(|&index| {
                let mut line = String::with_capacity(128);
                write_quad(&mut line, &quads[index], &|out: &mut String, other| {
                    out.push_str(if other == id { "a" } else { "z" });
                });
                line.push_str(" .\n");
                line
            })
            .collect();
        lines.sort_unstable();
        let mut hasher = Sha256::new();
        for line in &lines {
            hasher.update(line.as_bytes());
        }
        hashes.push((hasher.finalize().into(), id));
    }
    // Lowercase hexadecimal sorts as the bytes do.
    hashes.sort_unstable();
    if hashes.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        // Blank nodes alike to the first degree: the whole algorithm.
        return rdf_canon_of(&quads, limits);
    }
    let mut canonical = vec![0u32; blanks as usize];
    for (rank, (_, id)) in hashes.iter().enumerate() {
        canonical[*id as usize] = rank as u32;
    }
    let label = |out: &mut String, id: u32| {
        let _ = write!(out, "c14n{}", canonical[id as usize]);
    };

    let mut lines: Vec<String> = quads
        .iter()
        .map(|quad| {
            let mut line = String::with_capacity(128);
            write_quad(&mut line, quad, &label);
            line
        })
        .collect();
    // rdf-canon orders by the quad's text without the terminator.
    lines.sort_unstable();
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 3).sum());
    for line in lines {
        out.push_str(&line);
        out.push_str(" .\n");
    }
    Ok(out)
}

/// The full RDFC-1.0 of `quads`, by `rdf-canon`.
fn rdf_canon_of(quads: &[RawQuad<'_>], limits: &Limits) -> Result<String, Error> {
    use oxrdf::{BlankNode, Dataset, GraphName, Literal, NamedNode, Quad, Subject};

    let blank = |id: u32| BlankNode::new_unchecked(format!("b{id}"));
    let subject = |node: &Node<'_>| -> Subject {
        match node {
            Node::Iri(iri) => NamedNode::new_unchecked(iri.as_str()).into(),
            Node::Blank(id) => blank(*id).into(),
        }
    };
    let mut dataset = Dataset::new();
    for quad in quads {
        let object: oxrdf::Term = match &quad.object {
            Term::Node(Node::Iri(iri)) => NamedNode::new_unchecked(iri.as_str()).into(),
            Term::Node(Node::Blank(id)) => blank(*id).into(),
            Term::Literal {
                value,
                datatype: None,
            } => Literal::new_simple_literal(value.as_ref()).into(),
            Term::Literal {
                value,
                datatype: Some(datatype),
            } => Literal::new_typed_literal(
                value.as_ref(),
                NamedNode::new_unchecked(datatype.as_str()),
            )
            .into(),
        };
        let graph = match &quad.graph {
            None => GraphName::DefaultGraph,
            Some(Node::Iri(iri)) => NamedNode::new_unchecked(iri.as_str()).into(),
            Some(Node::Blank(id)) => blank(*id).into(),
        };
        dataset.insert(&Quad::new(
            subject(&quad.subject),
            NamedNode::new_unchecked(quad.predicate.as_str()),
            object,
            graph,
        ));
    }
    crate::canon::rdf_canonicalize(&dataset, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_are_written_as_json_ld_writes_them() {
        assert_eq!(canonical_double(42.5).as_deref(), Some("4.25E1"));
        assert_eq!(canonical_double(1e21).as_deref(), Some("1.0E21"));
        assert_eq!(canonical_double(-0.1).as_deref(), Some("-1.0E-1"));
        assert_eq!(canonical_double(f64::NAN), None);
    }

    #[test]
    fn integral_doubles_are_written_as_javascript_writes_them() {
        assert_eq!(integral_javascript(36.0).as_deref(), Some("36"));
        assert_eq!(integral_javascript(-0.0).as_deref(), Some("0"));
        assert_eq!(
            integral_javascript(4_350_115_702_931_151_330.0).as_deref(),
            Some("4350115702931151400")
        );
        assert_eq!(integral_javascript(2.5), None);
        assert_eq!(integral_javascript(1e21), None);
    }

    #[test]
    fn only_numbers_every_reader_reads_alike_are_taken() {
        for exact in [
            "0",
            "12.5",
            "-3",
            "9007199254740992",
            "1e+21",
            "0.1",
            "1.5e-7",
        ] {
            assert!(reads_exactly(exact), "{exact}");
        }
        for inexact in [
            "9007199254740993",
            "-867831521590823.2",
            "12345678901234567890",
            "1.2345678901234567",
            "1e-30",
            "1e+23",
        ] {
            assert!(!reads_exactly(inexact), "{inexact}");
        }
    }
}
