#!/usr/bin/env python3
"""Each rule of the twins (tests/twin/) has a test that fails without it.

For each (file, rule's code, the code without the rule, test): replaces the
rule, runs `cargo test --locked --test twin <test>`, expects it to FAIL, and
puts the file back. Prints KILLED (the test caught it) or SURVIVED per rule.
Usage: python3 tests/tools/twin_mutations.py [index ...]   (from anywhere;
one cargo build a mutation, so run it when the machine is free).
"""
import os, subprocess, sys
R=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))+'/'
M=[
("racf","        if self.certs.contains_key(&key) {\n            return Err(format!(\"label '{label}' is already in use for {owner}\"));","        if false {\n            return Err(format!(\"label '{label}' is already in use for {owner}\"));","gencert_with_a_label_in_use_fails"),
("racf","                self.need_cert(&key)?;\n                self.drop_cert(&key);","                let _ = self.need_cert(&key);\n                self.drop_cert(&key);","delete_of_a_missing_certificate_fails"),
("racf","            r.certs.remove(key);","","delete_of_a_missing_certificate_fails"),
("racf","                self.need_cert(&key)?;\n                let r = self","                let _ = self.need_cert(&key);\n                let r = self","connect_needs_the_ring_and_the_certificate"),
("racf","                    .get_mut(&(owner.clone(), ring.clone()))\n                    .ok_or_else(|| format!(\"key ring {ring} of {owner} does not exist\"))?;\n                let default","                    .entry((owner.clone(), ring.clone())).or_default();\n                let default","connect_needs_the_ring_and_the_certificate"),
("racf","            self.need_user(&owner)?;\n        }\n        match func","            let _ = self.need_user(&owner);\n        }\n        match func","gencert_for_a_user_needs_the_user"),
("racf","                let s = self.need_cert(&key)?;","                let Ok(s) = self.need_cert(&key) else { return Ok(()) };","signwith_needs_the_signer_with_its_private_key"),
("racf","                if !s.has_key {","                if false {","signwith_needs_the_signer_with_its_private_key"),
("racf","            if self.users.contains_key(id) {\n                return Err(format!(\"user {id} is already defined\"));","            if false {\n                return Err(format!(\"user {id} is already defined\"));","adduser_of_an_existing_user_fails"),
("racf","        if self.profiles.contains_key(&key) {","        if false {","rdefine_of_an_existing_profile"),
("racf","        self.need_profile(&class, &profile)?;\n        let p = self","        if self.need_profile(&class, &profile).is_err() { self.profiles.insert((class.clone(), profile.clone()), Profile::default()); }\n        let p = self","rdefine_of_an_existing_profile"),
("racf","                if self.rings.remove(&(owner.clone(), ring.clone())).is_none() {","                if self.rings.remove(&(owner.clone(), ring.clone())).is_none() && false {","delring_of_a_missing_ring_fails"),
("racf","                    failed.get_or_insert(JobFailure {\n                        index: total + i,","                    let _ = Some(JobFailure {\n                        index: total + i,","ikjeft1b_stops_at_the_first_failing_command"),
("racf","                    if !cert.has_key {","                    if false {","export_makes_a_data_set"),
("racf","        if self.datasets.remove(&dsn).is_none() {","        if self.datasets.remove(&dsn).is_none() && false {","export_makes_a_data_set"),
("racf","                    Some(label) => self.need_cert(&(owner, label)).map(|_| ()),","                    Some(_) => Ok(()),","lists_are_read_only"),
("racf","            Some('+') => l.trim_start_matches([' ', ',', '\\t']),","            Some('+') => l,","systsin_joins"),
("racf","                        r.certs.insert(nk.clone(), c);","                        r.certs.insert(ok.clone(), c);","rekey_gencert_and_rollover"),
("uss","        self.exports.insert(server.to_string(), entries);","        self.exports.entry(server.to_string()).or_default().extend(entries);","placing_exports_replaces"),
("uss","                if other != source {","                if other != source && false {","policy_rules_are_replaced"),
("uss","!defined.contains(w[1]) {","!defined.contains(w[1]) && false {","policy_rules_are_replaced"),
("uss","                        return Err(format!(\"{d} already exists\"));","                        continue;","mkdir_chown_chmod"),
("uss","if user.parse::<u32>().is_err() && uid_of(user).is_none() {","if user.parse::<u32>().is_err() && uid_of(user).is_none() && false {","mkdir_chown_chmod"),
("array","                if self.realms.contains_key(*name) {","                if false {","array_creates_once"),
("array","                self.live_realm(realm)?;\n                if self.pods.contains_key(*name) {","                let _ = self.live_realm(realm);\n                if self.pods.contains_key(*name) {","array_creates_once"),
("array","                if !self.policies.contains_key(*policy) {","                if false {","array_creates_once"),
("array",".find(|p| p.starts_with(&prefix)) {",".find(|p| p.starts_with(&prefix) && false) {","array_deletes_what_exists"),
("array","                if self.users.remove(*name).is_none() {","                if self.users.remove(*name).is_none() && false {","array_deletes_what_exists"),
("array","                if !self.tokens.insert(user.clone()) {","                if !self.tokens.insert(user.clone()) && false {","array_creates_once"),
("array","                    env.insert(src, token);","                    let _ = (src, token);","setup_scripts_are_idempotent"),
("k8s","    \"Namespace\",\n    \"ResourceQuota\",","    \"ResourceQuota\",","apply_k_orders_namespaces_first"),
("k8s","                        if !b.key.2.is_empty() && !self.has_namespace(&b.key.2) {\n                            return Err","                        if false {\n                            return Err","a_namespaced_object_needs_its_namespace"),
("k8s","        if self.objects.remove(key).is_none() {","        if self.objects.remove(key).is_none() && false {","apply_updates_by_identity"),
("k8s","            self.objects.retain(|k, _| k.2 != ns);","            let _ = ns;","deleting_a_namespace"),
("runbook","        if !self.done.insert(path.to_string()) {","        if !self.done.insert(path.to_string()) && false {","the_walker_runs_files_once"),
("racf","            self.need_user(&owner)?;\n        }\n        match func","            let _ = self.need_user(&owner);\n        }\n        match func","day0_runbooks_run_on_empty_twins"),
("racf","                let s = self.need_cert(&key)?;","                let Ok(s) = self.need_cert(&key) else { return Ok(()) };","with_the_user_ids_defined"),
("k8s","        if self.objects.remove(key).is_none() {","        if self.objects.remove(key).is_none() && false {","a_change_runbook_deletes"),
("array","                if self.users.remove(*name).is_none() {","                if self.users.remove(*name).is_none() && false {","a_change_runbook_deletes"),
("racf","                    if usage == \"PERSONAL\" {","                    if true {","rollover_adds_beside"),
("uss","                if b.len() > a.len() && b.starts_with(a.as_str()) && b.as_bytes()[a.len()] == b'/' {","                if false {","nested_exports_are_refused"),
("k8s","                    kind.to_string(),\n                    gns.to_string(),","                    format!(\"X{kind}\"),\n                    gns.to_string(),","day0_twins_hold_what_the_inventory_lists"),
("racf","                    if pgm == \"IKJEFT01\" {","                    if false {","an_ikjeft01_step_goes_on"),
("uss","if let Some(body) = words.first().and_then(|w| funcs.get(w)) {","if let Some(body) = words.first().and_then(|w| funcs.get(w)).filter(|_| false) {","uss_scripts_call_their_functions"),
]
only = sys.argv[1:] 
for i,(f,old,new,test) in enumerate(M):
    if only and str(i) not in only: continue
    p=R+'tests/twin/'+f+'.rs'
    s=open(p).read()
    n=s.count(old)
    if n!=1:
        print(i,f,test,"SNIPPET COUNT",n,flush=True); continue
    open(p,'w').write(s.replace(old,new))
    try:
        r=subprocess.run(['cargo','test','--locked','--test','twin',test],cwd=R,capture_output=True,text=True,timeout=900)
        out=r.stdout+r.stderr
        if 'error[' in out or 'error:' in out and 'test failed' not in out:
            status='BUILD-ERROR'
        elif r.returncode!=0 and 'FAILED' in out:
            status='KILLED (test fails)'
        else:
            status='SURVIVED'
        print(i,f,test,status,flush=True)
        if status=='BUILD-ERROR':
            print([l for l in out.splitlines() if 'error' in l][:5],flush=True)
    finally:
        open(p,'w').write(s)
