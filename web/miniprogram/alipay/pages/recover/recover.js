import { recoverPage } from "../../lib/shared/pages.js";
import { ui } from "../../ui.js";

Page(recoverPage(ui));
