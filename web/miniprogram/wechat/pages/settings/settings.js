import { settingsPage } from "../../lib/shared/pages.js";
import { ui } from "../../ui.js";

Page(settingsPage(ui));
