import { approvePage } from "../../lib/shared/pages.js";
import { ui } from "../../ui.js";

Page(approvePage(ui));
