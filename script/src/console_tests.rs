//! `console` in a procedure: formatted as the managed service formats it, kept only when the
//! caller asks for the log, bounded, and dropped with the rest of a failed execution.

use serde_json::{json, Value};

use crate::{run_procedure, run_trigger, Host, HostError, Limits, Procedure, Request, ScriptError};
use crate::{LOG_TRUNCATED, MAX_LOG_BYTES};

/// Answers every read with a small document.
struct Echo;

impl Host for Echo {
    fn call(&mut self, _: Request) -> Result<Value, HostError> {
        Ok(json!({"id": "x"}))
    }
}

fn procedure(body: &str, log: bool) -> Procedure<'_> {
    Procedure {
        body,
        self_link: "dbs/d/colls/c/",
        alt_link: "dbs/d/colls/c",
        now_ms: 0.0,
        log,
    }
}

fn logged(body: &str) -> Result<Option<String>, ScriptError> {
    run_procedure(&procedure(body, true), &[], &mut Echo, Limits::default()).map(|o| o.log)
}

#[test]
fn the_services_sample_logs_its_formatted_line() {
    // The managed service's own test of script logging.
    let body = "function () { var mytext = 'x'; var myval = 1; \
        console.log('The value of %s is %s.', mytext, myval); \
        getContext().getResponse().setBody('Success!'); }";
    let out = run_procedure(&procedure(body, true), &[], &mut Echo, Limits::default()).unwrap();
    assert_eq!(out.body, json!("Success!"));
    assert_eq!(out.log.as_deref(), Some("The value of x is 1."));
}

#[test]
fn without_the_option_console_calls_are_accepted_and_nothing_is_kept() {
    let body = "function () { console.log('secret'); console.error({a: 1}); \
        getContext().getResponse().setBody(typeof console.log); }";
    let out = run_procedure(&procedure(body, false), &[], &mut Echo, Limits::default()).unwrap();
    assert_eq!(out.body, json!("function"));
    assert_eq!(out.log, None);
}

#[test]
fn arguments_are_joined_by_spaces_objects_as_json_one_line_per_call() {
    let body = r#"function () {
        console.log('a', 1, true, null, undefined, {k: [1, 'two']});
        console.info('%d%% of %i, %f', '42', '7.9', '2.5', 'rest', {r: 1});
        console.warn('%s and %s', 'only');
        console.error('100%');
        var cyclic = {}; cyclic.self = cyclic;
        console.debug(cyclic, Symbol('s'));
        console.log('%d', Symbol('t'));
        console.log();
    }"#;
    let log = logged(body).unwrap().unwrap();
    let lines: Vec<&str> = log.split('\n').collect();
    assert_eq!(
        lines,
        vec![
            r#"a 1 true null undefined {"k":[1,"two"]}"#,
            r#"42% of 7, 2.5 rest {"r":1}"#,
            "only and %s",
            "100%",
            "[object Object] Symbol(s)",
            "%d Symbol(t)",
            "",
        ]
    );
}

#[test]
fn a_log_over_the_bound_is_cut_and_marked_and_the_script_goes_on() {
    let body = "function () { var line = new Array(1001).join('x'); \
        for (var i = 0; i < 100; i++) console.log(line); \
        getContext().getResponse().setBody('done'); }";
    let out = run_procedure(&procedure(body, true), &[], &mut Echo, Limits::default()).unwrap();
    assert_eq!(out.body, json!("done"));
    let log = out.log.unwrap();
    assert!(log.ends_with(LOG_TRUNCATED));
    assert_eq!(log.len(), MAX_LOG_BYTES + LOG_TRUNCATED.len());
}

#[test]
fn a_throw_answers_its_error_and_no_log() {
    let body = "function () { console.log('before'); throw new Error('stop'); }";
    let e = logged(body).unwrap_err();
    assert_eq!(e, ScriptError::Thrown("stop".into()));
}

#[test]
fn a_triggers_console_is_dropped() {
    let t = procedure("function () { console.log('in a trigger'); }", false);
    let out = run_trigger(&t, &json!({"id": "a"}), None, &mut Echo, Limits::default()).unwrap();
    assert_eq!(out.log, None);
}
