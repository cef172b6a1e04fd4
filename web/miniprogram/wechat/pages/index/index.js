import { indexPage } from "../../lib/shared/pages.js";
import { ui } from "../../ui.js";

Page(indexPage(ui));
