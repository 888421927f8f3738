// The MCKS explorer page: a login panel in front of GraphiQL.
//
// The password goes only into the panel's field and the body of one `login` request made
// here (never the editor, the address or GraphiQL's localStorage). The token lives in this
// tab's sessionStorage and reaches the server as a header added by the fetcher, and for
// subscriptions as connection_init's payload {"Authorization": "Bearer <token>"}; it is never
// written into GraphiQL's headers editor, which GraphiQL would persist.
(function () {
  "use strict";

  var SESSION_KEY = "mcks.explorer.session";
  var ENDPOINT = new URL("/graphql", window.location.href).toString();
  var WS_ENDPOINT = ENDPOINT.replace(/^http/, "ws");

  var TEXTS = {
    tr: {
      title: "MCKS GraphQL gezgini",
      username: "Kullanıcı adı",
      password: "Parola",
      newPassword: "Yeni parola",
      repeatPassword: "Yeni parola (tekrar)",
      login: "Giriş yap",
      changePassword: "Parolayı değiştir ve devam et",
      logout: "Çıkış yap",
      signedInAs: "Oturum: ",
      missing: "Kullanıcı adı ve parola gerekli.",
      expired: "Oturumunuzun süresi doldu ya da oturum kapatıldı. Lütfen yeniden giriş yapın.",
      loggedOut: "Oturum kapatıldı.",
      mustChange: "İlk girişte parolanızı değiştirmeniz gerekiyor: yeni parolanızı iki kez yazın.",
      mismatch: "Yeni parolalar birbirini tutmuyor.",
      unreachable: "Sunucuya ulaşılamadı. Bağlantınızı denetleyip yeniden deneyin.",
      retryAfter: " ({s} saniye sonra yeniden deneyin)",
      usePanel:
        "Parolalar editöre yazılmaz: giriş ve parola değişikliği için sayfanın giriş panelini " +
        "kullanın (çıkış yapıp yeniden girin). Bu belge çalıştırılmadı ve kaydedilmedi.",
      welcome:
        "# MCKS GraphQL gezgini\n#\n# Sorguyu yazıp Ctrl-Enter ile çalıştırın; şema, sol taraftaki\n" +
        "# belgelerde ve gezginde.\n\n{\n  viewer {\n    kind\n    role\n    name\n  }\n}\n",
    },
    en: {
      title: "MCKS GraphQL explorer",
      username: "Username",
      password: "Password",
      newPassword: "New password",
      repeatPassword: "New password (again)",
      login: "Sign in",
      changePassword: "Change password and continue",
      logout: "Sign out",
      signedInAs: "Signed in: ",
      missing: "Username and password are required.",
      expired: "Your session has expired or was ended. Please sign in again.",
      loggedOut: "You are signed out.",
      mustChange: "You must change your password at first sign-in: type the new password twice.",
      mismatch: "The new passwords do not match.",
      unreachable: "The server could not be reached. Check the connection and try again.",
      retryAfter: " (try again in {s} seconds)",
      usePanel:
        "Passwords do not belong in the editor: sign in and change passwords in the page's " +
        "panel (sign out, then in again). This document was neither run nor saved.",
      welcome:
        "# MCKS GraphQL explorer\n#\n# Write a query and run it with Ctrl-Enter; the schema is in\n" +
        "# the docs and the explorer on the left.\n\n{\n  viewer {\n    kind\n    role\n    name\n  }\n}\n",
    },
  };

  function language() {
    var tags = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (var i = 0; i < tags.length; i++) {
      var tag = String(tags[i] || "").toLowerCase();
      if (tag.indexOf("en") === 0) return "en";
      if (tag.indexOf("tr") === 0) return "tr";
    }
    return "tr";
  }

  var lang = language();
  var t = TEXTS[lang];
  var $ = function (id) { return document.getElementById(id); };
  var root = null;
  // The current password, kept in memory only while a first-login password change is asked.
  var pendingPassword = null;

  function readSession() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    } catch (error) {
      return null;
    }
  }

  function writeSession(session) {
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(SESSION_KEY);
  }

  async function post(query, variables, token) {
    var headers = { "content-type": "application/json", accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    var response = await fetch(ENDPOINT, {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ query: query, variables: variables || {} }),
      credentials: "omit",
      cache: "no-store",
    });
    return response.json();
  }

  function isUnauthenticated(result) {
    var errors = (result && result.errors) || [];
    for (var i = 0; i < errors.length; i++) {
      if (errors[i] && errors[i].extensions && errors[i].extensions.code === "UNAUTHENTICATED") return true;
    }
    return false;
  }

  // A document that calls login or changePassword carries a password: GraphiQL would keep
  // it in localStorage (tabs, history), so it is neither saved nor sent from the editor.
  var PASSWORD_FIELDS = /\b(login|changePassword)\s*\(/;

  var guardedStorage = {
    getItem: function (key) { return localStorage.getItem(key); },
    setItem: function (key, value) {
      if (PASSWORD_FIELDS.test(String(value))) {
        // Not even the earlier text of this tab: it may already hold part of the password.
        if (key.indexOf("graphiql:") === 0 && key !== "graphiql:queries") localStorage.removeItem(key);
        return;
      }
      localStorage.setItem(key, value);
    },
    removeItem: function (key) { localStorage.removeItem(key); },
    get length() {
      var count = 0;
      for (var i = 0; i < localStorage.length; i++) if (localStorage.key(i).indexOf("graphiql:") === 0) count++;
      return count;
    },
    clear: function () {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key.indexOf("graphiql:") === 0) localStorage.removeItem(key);
      }
    },
  };

  function makeFetcher(token) {
    var inner = GraphiQL.createFetcher({
      url: ENDPOINT,
      subscriptionUrl: WS_ENDPOINT,
      // Plain promises: the answer is inspected for an ended session before GraphiQL shows it.
      enableIncrementalDelivery: false,
    });
    return async function (params, options) {
      if (PASSWORD_FIELDS.test(params.query || "")) return { errors: [{ message: t.usePanel }] };
      var opts = Object.assign({}, options);
      // Last, so it wins over the headers editor; also becomes the WebSocket's
      // connection_init payload (GraphiQL sends the headers there).
      opts.headers = Object.assign({}, opts.headers, { Authorization: "Bearer " + token });
      var result = await inner(params, opts);
      if (isUnauthenticated(result)) expire();
      return result;
    };
  }

  function message(text) {
    var box = $("mcks-message");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function showPanel(text) {
    if (root) {
      root.unmount();
      root = null;
    }
    $("graphiql").hidden = true;
    $("mcks-bar").hidden = true;
    $("mcks-login").hidden = false;
    $("mcks-password").value = "";
    askNewPassword(false);
    message(text);
    $("mcks-username").focus();
  }

  function showEditor(session) {
    $("mcks-login").hidden = true;
    message("");
    $("mcks-user").textContent = t.signedInAs + (session.name || session.username || "");
    $("mcks-bar").hidden = false;
    var container = $("graphiql");
    container.hidden = false;
    root = ReactDOM.createRoot(container);
    root.render(
      React.createElement(GraphiQL, {
        fetcher: makeFetcher(session.token),
        plugins: [GraphiQLPluginExplorer.explorerPlugin()],
        defaultQuery: t.welcome,
        defaultEditorToolsVisibility: true,
        inputValueDeprecation: true,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
        storage: guardedStorage,
      })
    );
  }

  function expire() {
    if (!readSession()) return;
    writeSession(null);
    showPanel(t.expired);
  }

  function askNewPassword(on) {
    $("mcks-new-password-fields").hidden = !on;
    $("mcks-new-password").value = "";
    $("mcks-repeat-password").value = "";
    $("mcks-submit").textContent = on ? t.changePassword : t.login;
    if (!on) pendingPassword = null;
  }

  function describe(errors) {
    return errors
      .map(function (e) {
        var text = e.message || e.code;
        if (e.retryAfterSeconds) text += t.retryAfter.replace("{s}", e.retryAfterSeconds);
        return text;
      })
      .join(" ");
  }

  var LOGIN =
    "mutation Login($username: String!, $password: String!) { login(username: $username, password: $password) " +
    "{ token expiresAt mustChangePassword user { username fullName } errors { code message field retryAfterSeconds } } }";
  var CHANGE =
    "mutation ChangePassword($current: String!, $new: String!) { changePassword(currentPassword: $current, newPassword: $new) " +
    "{ errors { code message field retryAfterSeconds } } }";
  var LOGOUT = "mutation Logout { logout { ok errors { code message } } }";

  async function signIn(username, password) {
    var answer = await post(LOGIN, { username: username, password: password });
    var payload = answer.data && answer.data.login;
    if (!payload) return message(describe(answer.errors || []) || t.unreachable);
    if (payload.errors.length) return message(describe(payload.errors));
    var session = {
      token: payload.token,
      username: payload.user ? payload.user.username : username,
      name: payload.user ? payload.user.fullName : username,
    };
    writeSession(session);
    if (payload.mustChangePassword) {
      pendingPassword = password;
      askNewPassword(true);
      message(t.mustChange);
      return;
    }
    showEditor(session);
  }

  async function changePassword(session) {
    var fresh = $("mcks-new-password").value;
    if (fresh !== $("mcks-repeat-password").value) return message(t.mismatch);
    var answer = await post(CHANGE, { current: pendingPassword, new: fresh }, session.token);
    if (isUnauthenticated(answer)) {
      writeSession(null);
      return showPanel(t.expired);
    }
    var payload = answer.data && answer.data.changePassword;
    if (!payload) return message(describe(answer.errors || []) || t.unreachable);
    if (payload.errors.length) return message(describe(payload.errors));
    askNewPassword(false);
    showEditor(session);
  }

  async function submit(event) {
    // The form is never submitted by the browser: no URL ever holds what was typed.
    event.preventDefault();
    var username = $("mcks-username").value.trim();
    var password = $("mcks-password").value;
    var button = $("mcks-submit");
    button.disabled = true;
    try {
      var session = readSession();
      if (pendingPassword !== null && session) await changePassword(session);
      else if (!username || !password) message(t.missing);
      else await signIn(username, password);
    } catch (error) {
      message(t.unreachable);
    } finally {
      button.disabled = false;
      // What was typed stays in the field only while a password change still needs it.
      if (pendingPassword === null) $("mcks-password").value = "";
    }
  }

  async function logout() {
    var session = readSession();
    writeSession(null);
    showPanel(t.loggedOut);
    if (session) {
      try {
        await post(LOGOUT, {}, session.token);
      } catch (error) {
        // Offline: the token is forgotten here and expires by itself.
      }
    }
  }

  function translate() {
    document.documentElement.lang = lang;
    document.title = t.title;
    var nodes = document.querySelectorAll("[data-text]");
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t[nodes[i].getAttribute("data-text")];
  }

  translate();
  $("mcks-login-form").addEventListener("submit", submit);
  $("mcks-logout").addEventListener("click", logout);
  var existing = readSession();
  if (existing && existing.token) showEditor(existing);
  else showPanel("");
})();
