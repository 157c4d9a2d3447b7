// A photo of the request opens full size in a dialog (the thumbnail is 200 px wide).
const dialog = document.getElementById("te-zoom-dialog");
const image = document.getElementById("te-zoom-image");

for (const button of document.querySelectorAll(".te-zoom")) {
  button.addEventListener("click", () => {
    image.src = button.dataset.full;
    image.alt = button.getAttribute("aria-label") || "Photo";
    dialog.showModal();
  });
}
