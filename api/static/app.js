// The only script: the copy button. The pages work without it (the text can be selected).
document.addEventListener("click", function (e) {
  var b = e.target.closest("button.copy");
  if (!b) return;
  var el = document.getElementById(b.dataset.copy);
  el.select();
  var done = function () { b.textContent = "已复制"; setTimeout(function () { b.textContent = "复制说理"; }, 2000); };
  if (navigator.clipboard) { navigator.clipboard.writeText(el.value).then(done, function () { document.execCommand("copy"); done(); }); }
  else { document.execCommand("copy"); done(); }
});
