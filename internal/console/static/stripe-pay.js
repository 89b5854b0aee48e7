// The payment page's Stripe form: Stripe.js mounts its Payment Element
// with the PaymentIntent's client secret and confirms the payment, then
// Stripe brings the buyer back to the deal's page, which learns of the
// payment from Stripe's webhook. Without Stripe.js (blocked, offline)
// the page says so.
(function () {
  "use strict";
  var form = document.getElementById("stripe-payment");
  if (!form) return;
  var shown = document.getElementById("payment-error");
  function show(message) {
    shown.textContent = message;
    shown.hidden = false;
  }
  if (!window.Stripe) {
    show(form.getAttribute("data-unavailable"));
    form.querySelector("button").disabled = true;
    return;
  }
  var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret") });
  elements.create("payment").mount("#payment-element");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.getAttribute("data-return-url") } }).then(function (r) {
      if (r.error) {
        show(r.error.message);
        button.disabled = false;
      }
    });
  });
})();
