// The product page of a product with variants: picking one shows its price, stock and
// SKU at the top at once. Without this script each option lists its own price and stock.
(function () {
  "use strict";
  var form = document.querySelector("[data-variant-form]");
  if (!form) return;
  var price = document.querySelector("[data-variant-price]");
  var stock = document.querySelector("[data-variant-stock]");
  var sku = document.querySelector(".sku");
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name !== "variant") return;
    price.textContent = input.dataset.price;
    stock.textContent = input.dataset.stock;
    stock.className = "stock stock--" + input.dataset.stockClass;
    if (sku) sku.textContent = sku.textContent.replace(/\S+$/, input.dataset.sku);
  });
})();
