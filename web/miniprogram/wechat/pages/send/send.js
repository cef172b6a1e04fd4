import { sendPage } from "../../lib/shared/pages.js";
import { ui } from "../../ui.js";

Page(sendPage(ui));
