//! Backstage's template expressions (`${{ }}`, `{% %}`, `{# #}`) on minijinja: the delimiters,
//! Nunjucks' lenient undefined lookups, typed single-expression values, and the bounds that make
//! an untrusted template safe to render (fuel for work, a cap on output).

use std::fmt;
use std::io::Write;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value as JValue};
use serde_json::Value;

use crate::{filters, js, nunjucks};

/// The context name the status checks read: whether a step of the run has failed.
pub const FAILED: &str = "__failed";

/// Instructions one render may run: far beyond any real template (a 50-file skeleton uses a few
/// hundred per file), small enough that a runaway loop stops in milliseconds.
pub const FUEL: u64 = 200_000;
/// Bytes one render may produce (a rendered file or input string).
pub const MAX_OUTPUT: usize = 4 * 1024 * 1024;
/// Bytes of template source one render accepts.
pub const MAX_SOURCE: usize = 1024 * 1024;

/// A template that failed to parse or render; `TemplateRenderError` at the API edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError(pub String);

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RenderError {}

fn render_error(e: minijinja::Error) -> RenderError {
    // Worded like Backstage's ("Template error at line 1, …"), with minijinja's kind and detail
    // and the source chain (which filter failed and why).
    let mut msg = match e.line() {
        Some(line) => format!("Template error at line {line}: {}", e.kind()),
        None => format!("Template error: {}", e.kind()),
    };
    if let Some(detail) = e.detail() {
        msg.push_str(": ");
        msg.push_str(detail);
    }
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    RenderError(msg)
}

/// The environment every render uses: Backstage's delimiters and filters, no auto-escaping
/// (templates write code and YAML, not HTML), chainable undefined as Nunjucks (a missing
/// `parameters.a.b` renders empty instead of failing).
pub struct Engine {
    env: Environment<'static>,
    /// Where a variable opens: `${{`, or `{{` with `cookiecutterCompat`.
    var_open: &'static str,
    /// The variants `fetch:template` asks for, built once, indexed by [`Blocks::index`].
    variants: Vec<Engine>,
}

/// How `fetch:template` asks a skeleton to be rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Blocks {
    pub trim: bool,
    pub lstrip: bool,
    /// Cookiecutter's `{{ cookiecutter.x }}` delimiters and its `jsonify` filter.
    pub cookiecutter: bool,
}

impl Blocks {
    /// Where a variable opens in this syntax.
    fn var_open(self) -> &'static str {
        if self.cookiecutter { "{{" } else { "${{" }
    }

    fn index(self) -> usize {
        usize::from(self.trim) | usize::from(self.lstrip) << 1 | usize::from(self.cookiecutter) << 2
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        let variants = (0..8)
            .map(|i| {
                let blocks = Blocks {
                    trim: i & 1 != 0,
                    lstrip: i & 2 != 0,
                    cookiecutter: i & 4 != 0,
                };
                Engine {
                    env: Self::environment(blocks),
                    var_open: blocks.var_open(),
                    variants: Vec::new(),
                }
            })
            .collect();
        Engine {
            env: Self::environment(Blocks::default()),
            var_open: Blocks::default().var_open(),
            variants,
        }
    }

    /// This engine, or its variant that renders as `fetch:template` asks.
    pub fn with_blocks(&self, blocks: Blocks) -> &Engine {
        self.variants.get(blocks.index()).unwrap_or(self)
    }

    fn environment(blocks: Blocks) -> Environment<'static> {
        let mut env = Environment::new();
        env.set_trim_blocks(blocks.trim);
        env.set_lstrip_blocks(blocks.lstrip);
        env.set_syntax(
            SyntaxConfig::builder()
                .block_delimiters("{%", "%}")
                .variable_delimiters(blocks.var_open(), "}}")
                .comment_delimiters("{#", "#}")
                .build()
                .expect("static syntax"),
        );
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(64);
        // Nunjucks keeps a template's trailing newline.
        env.set_keep_trailing_newline(true);
        // Not in Nunjucks, and the one way a template could keep mutable state across loop
        // iterations to grow a value without bound.
        env.remove_global("namespace");
        // Values print as JavaScript prints them (`true`, `a,b`, `5`), and the string and array
        // methods of JavaScript work, as in Nunjucks.
        env.set_formatter(|out, _state, value| {
            js::write_js(out, value)
                .map_err(|_| minijinja::Error::from(minijinja::ErrorKind::WriteFailure))
        });
        env.set_unknown_method_callback(|_state, value, method, args| {
            js::call_method(value, method, args)
        });
        env.add_function("__regex", js::regex);
        // A step's status checks (Backstage 4.2): `always()` lets a step run after a failure,
        // `failure()` is whether one happened.
        env.add_function("always", || true);
        env.add_function("failure", |state: &minijinja::State| {
            state.lookup(FAILED).is_some_and(|v| v.is_true())
        });
        filters::register(&mut env);
        if blocks.cookiecutter {
            filters::register_cookiecutter(&mut env);
        }
        env
    }

    /// Renders `source` as text with `ctx`.
    pub fn render_str(&self, source: &str, ctx: &Value) -> Result<String, RenderError> {
        if source.len() > MAX_SOURCE {
            return Err(RenderError(format!(
                "template is {} bytes, more than the {MAX_SOURCE} allowed",
                source.len()
            )));
        }
        // Plain text (most skeleton files) needs no engine.
        if !source.contains(self.var_open) && !source.contains("{%") && !source.contains("{#") {
            return Ok(source.to_owned());
        }
        let source = nunjucks::template(source, self.var_open);
        let tmpl = self.env.template_from_str(&source).map_err(render_error)?;
        let mut out = Bounded(Vec::with_capacity(source.len()));
        tmpl.render_captured_to(JValue::from_serialize(ctx), &mut out)
            .map_err(|e| {
                if out.0.len() >= MAX_OUTPUT {
                    RenderError(format!("rendered output exceeds {MAX_OUTPUT} bytes"))
                } else {
                    render_error(e)
                }
            })?;
        String::from_utf8(out.0).map_err(|_| RenderError("rendered output is not UTF-8".into()))
    }

    /// Renders one step input value as Backstage's scaffolder does (nunjitsu's `renderValue`):
    /// a string that is exactly one `${{ }}` keeps the expression's type (`${{ parameters.count
    /// }}` is a number, `${{ x }}` of an empty string stays ""), and is absent (`None`) only when
    /// the expression is undefined; other strings render as text; arrays and objects render
    /// element-wise.
    pub fn render_value(&self, value: &Value, ctx: &Value) -> Result<Option<Value>, RenderError> {
        Ok(match value {
            Value::String(s) => match single_expression(s) {
                Some(expr) => self.eval_defined(expr, ctx)?,
                None => Some(Value::String(self.render_str(s, ctx)?)),
            },
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    // Backstage maps each element; an absent one stays in place as null.
                    out.push(self.render_value(item, ctx)?.unwrap_or(Value::Null));
                }
                Some(Value::Array(out))
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (k, v) in map {
                    if let Some(v) = self.render_value(v, ctx)? {
                        out.insert(k.clone(), v);
                    }
                }
                Some(Value::Object(out))
            }
            other => Some(other.clone()),
        })
    }

    /// Evaluates one expression (the inside of `${{ }}`) to a JSON value. Undefined is `null`.
    pub fn eval(&self, expr: &str, ctx: &Value) -> Result<Value, RenderError> {
        Ok(self.eval_defined(expr, ctx)?.unwrap_or(Value::Null))
    }

    /// Evaluates one expression; `None` when it is undefined (`none` is JSON null).
    pub fn eval_defined(&self, expr: &str, ctx: &Value) -> Result<Option<Value>, RenderError> {
        if expr.len() > MAX_SOURCE {
            return Err(RenderError("expression too long".into()));
        }
        let expr = nunjucks::expression(expr);
        let compiled = self.env.compile_expression(&expr).map_err(render_error)?;
        let v = compiled
            .eval(JValue::from_serialize(ctx))
            .map_err(render_error)?;
        Ok((!v.is_undefined()).then(|| to_json(&v)))
    }

    /// Whether a step's `if` lets it run: Backstage skips on `false` and on a string that renders
    /// to something falsy (empty, `false`, 0, an empty list).
    pub fn is_truthy(&self, cond: &Value, ctx: &Value) -> Result<bool, RenderError> {
        let v = match cond {
            Value::String(_) => self.render_value(cond, ctx)?.unwrap_or(Value::Null),
            other => other.clone(),
        };
        Ok(truthy(&v))
    }
}

/// JavaScript's truthiness, with Backstage's rule that an empty array is false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

/// The expression of a string that is exactly one `${{ … }}` (no text around it, no second
/// expression), as Nunjucks' parser decides it in Backstage's `isSingleTemplateString`.
pub fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("${{")?.strip_suffix("}}")?;
    (!inner.contains("}}") && !inner.contains("${{") && !inner.contains("{%")).then_some(inner)
}

/// A minijinja value as JSON: undefined and none are null; integers stay integers.
pub fn to_json(v: &JValue) -> Value {
    if v.is_undefined() || v.is_none() {
        return Value::Null;
    }
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A writer that fails past [`MAX_OUTPUT`] bytes, which stops the render.
struct Bounded(Vec<u8>);

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            self.0
                .extend_from_slice(&buf[..MAX_OUTPUT.saturating_sub(self.0.len())]);
            return Err(std::io::Error::other("output too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
