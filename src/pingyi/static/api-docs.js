// Starts Swagger UI on /api/docs from files served by this app (no CDN, no inline
// script: the Content-Security-Policy allows neither).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-schema"),
    dom_id: "#swagger-ui",
    // Deep links would put a link inside each operation's toggle button (nested
    // interactive controls, an accessibility failure).
    deepLinking: false,
    onComplete: function () {
      // Swagger UI leaves its server list without an accessible name.
      var servers = document.getElementById("servers");
      if (servers) servers.setAttribute("aria-label", "Servers");
    },
  });
});
