// Signing in the browser. A member's key is made here with WebCrypto as a
// non-extractable Ed25519 key and kept in IndexedDB: the server never
// holds it. Entries are prepared by the server (/act/NAME/prepare: the
// exact payload, sealed if it must be), signed here as DSSE envelopes, and
// sent back (/act/NAME/signed).
(() => {
  "use strict";
  const enc = new TextEncoder();
  const b64 = (bytes) => btoa(Array.from(new Uint8Array(bytes), (b) => String.fromCharCode(b)).join(""));
  const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };

  // The keys this browser holds, by log origin and member.
  const store = (mode, fn) => new Promise((resolve, reject) => {
    const open = indexedDB.open("truce", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = fn(open.result.transaction("keys", mode).objectStore("keys"));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    };
  });
  const slot = (origin, member) => origin + "\n" + member;
  const load = (origin, member) => store("readonly", (s) => s.get(slot(origin, member)));
  const save = (origin, member, key) => store("readwrite", (s) => s.put(key, slot(origin, member)));

  // The key id: the SHA-256 fingerprint of the key as OpenSSH prints it.
  const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const keyID = async (raw) => {
    const name = enc.encode("ssh-ed25519");
    const digest = await crypto.subtle.digest("SHA-256", concat(u32(name.length), name, u32(raw.length), raw));
    return "SHA256:" + b64(digest).replace(/=+$/, "");
  };
  // DSSE's pre-authentication encoding: what is signed.
  const pae = (type, body) => {
    const t = enc.encode(type);
    return concat(enc.encode(`DSSEv1 ${t.length} `), t, enc.encode(` ${body.length} `), body);
  };
  const post = (action, fields) => {
    const f = document.createElement("form");
    f.method = "post";
    f.action = action;
    for (const [name, value] of Object.entries(fields)) {
      const i = document.createElement("input");
      i.type = "hidden";
      i.name = name;
      i.value = value;
      f.append(i);
    }
    document.body.append(f);
    f.submit();
  };

  // The keys page: make a key here, prove it is held, and add it.
  const maker = document.querySelector("form[data-make-key]");
  if (maker) {
    const { origin, member } = maker.dataset;
    load(origin, member).then((k) => {
      const row = k && document.querySelector(`tr[data-key="${k.id}"] .here`);
      if (row) row.hidden = false;
    }, () => {});
    maker.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
        const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
        const id = await keyID(raw);
        const proof = await crypto.subtle.sign("Ed25519", pair.privateKey,
          enc.encode(`truce key possession v1\n${origin}\n${member}\n${id}\n`));
        await save(origin, member, { id, pair });
        maker.elements.key.value = "ed25519:" + b64(raw);
        maker.elements.proof.value = b64(proof);
        maker.submit();
      } catch (e) {
        maker.querySelector("[data-unsupported]").hidden = false;
      }
    });
  }

  // An action's form: sign it here if this browser holds a usable key.
  const form = document.querySelector("form[data-sign]");
  if (form) {
    const { origin, member } = form.dataset;
    const usable = form.dataset.keys.split(" ").filter(Boolean);
    load(origin, member).then((k) => {
      if (!k || !usable.includes(k.id)) return;
      const note = form.querySelector('[data-signer="browser"]');
      note.querySelector("code").textContent = k.id;
      note.hidden = false;
      form.querySelector('[data-signer="server"]').hidden = true;
      const fail = (msg) => {
        const p = form.querySelector("[data-sign-error]");
        p.textContent = msg;
        p.hidden = false;
        window.scrollTo(0, 0);
      };
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const res = await fetch(form.action + "/prepare", { method: "POST", body: new URLSearchParams(new FormData(form)) });
        const out = await res.json().catch(() => ({ error: res.statusText }));
        if (!res.ok) {
          const fields = Object.entries(out.fields || {}).map(([f, m]) => `${f}: ${m}`);
          return fail([out.error, ...fields].filter(Boolean).join(" · "));
        }
        // Sign only what this form asked for: its kind, by this member,
        // for this log.
        const payload = unb64(out.payload);
        const p = JSON.parse(new TextDecoder().decode(payload));
        if (out.payload_type !== "application/vnd.truce.entry+json" || p.kind !== form.dataset.kind ||
            p.author !== member || p.origin !== origin) {
          return fail("The server prepared another entry than this form's: nothing was signed.");
        }
        const sig = await crypto.subtle.sign("Ed25519", k.pair.privateKey, pae(out.payload_type, payload));
        const envelope = { payloadType: out.payload_type, payload: out.payload, signatures: [{ keyid: k.id, sig: b64(sig) }] };
        const fields = { csrf: form.elements.csrf.value, envelope: JSON.stringify(envelope) };
        if (out.opening) fields.opening = JSON.stringify(out.opening);
        post(form.action + "/signed", fields);
      });
    }, () => {});
  }
})();
