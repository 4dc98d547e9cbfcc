// Starts Swagger UI on /api/docs from files served by this app (no CDN, no inline
// script: the Content-Security-Policy allows neither).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-schema"),
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
