// Swagger UI for /openapi.json, from the vendored bundle (no CDN, no external validator).
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
});
