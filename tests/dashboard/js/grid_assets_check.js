/* Runs assets/dashAgGridComponentFunctions.js in node with a fake window, React and history, and prints
   what it did as JSON (tests/dashboard/test_grid_assets.py asserts on it). */
"use strict";
const fs = require("fs");
const vm = require("vm");

const pushed = [];
const replaced = [];
const events = [];
const listeners = {};
const location = {pathname: "/prefix/actions", search: "?view=at-risk&segment=Loyal", hash: ""};
const window = {
    location,
    history: {
        state: null,
        pushState: (_s, _t, url) => pushed.push(url),
        replaceState: (_s, _t, url) => {
            replaced.push(url);
            const [path, query] = url.split("?");
            location.pathname = path;
            location.search = query ? "?" + query : "";
        },
    },
    dispatchEvent: (event) => events.push(event.type),
    scrollTo: () => {},
};
const effects = [];
const React = {
    useRef: () => ({current: null}),
    useEffect: (fn) => effects.push(fn),
    createElement: (tag, props, child) => ({tag, props, child}),
};
class CustomEvent { constructor(type) { this.type = type; } }
window.dash_clientside = {no_update: "NO_UPDATE"};
const context = {window, React, CustomEvent, URLSearchParams};
vm.createContext(context);
vm.runInContext(fs.readFileSync(process.argv[2], "utf8"), context);

const out = {};
const link = window.dashAgGridComponentFunctions.CustomerLink;
const cellListeners = {};
const cell = {addEventListener: (type, fn) => { cellListeners[type] = fn; }, removeEventListener: () => {}};
const element = link({value: "17850", data: {href: "/prefix/client/17850"}, eGridCell: cell});
out.link = {tag: element.tag, href: element.props.href, text: element.child};
let prevented = 0;
element.props.onClick({button: 0, preventDefault: () => { prevented += 1; }});
element.props.onClick({button: 1, preventDefault: () => { prevented += 1; }});  // middle click: browser's own
element.props.onClick({button: 0, ctrlKey: true, preventDefault: () => { prevented += 1; }});  // new tab
out.click = {prevented, pushed: pushed.slice(), events: events.slice()};
effects.forEach((fn) => fn());
let clicked = 0;
const anchorRef = {current: {click: () => { clicked += 1; }}};
const keyed = {addEventListener: (type, fn) => { cellListeners["k" + type] = fn; }, removeEventListener: () => {}};
React.useRef = () => anchorRef;
effects.length = 0;
link({value: "1", data: {href: "/c/1"}, eGridCell: keyed});
effects.forEach((fn) => fn());
cellListeners.kkeydown({key: "Enter"});
cellListeners.kkeydown({key: "a"});
out.enter = clicked;
out.noHref = link({value: "17850", data: {}});

const choiceIs = window.dashAgGridFunctions.choiceIs;
out.choice = [choiceIs("Loyal")([], "Loyal"), choiceIs("Loyal")([], "Potential Loyalists"),
              choiceIs("Loyal")([], "loyal"), choiceIs("Can't Lose Them")([], "Can't Lose Them")];

const sync = window.dash_clientside.gridUrl.sync;
const defaults = {path: "/prefix/actions", sort: "risk_score:desc"};
out.syncNone = sync(null, defaults);
sync({filterModel: {segment: {filterType: "text", type: "is:Loyal"}},
      sortModel: [{colId: "monetary", sort: "asc"}, {colId: "customer_id", sort: "desc"}]}, defaults);
sync({filterModel: {}, sortModel: []}, defaults);
sync({filterModel: {}, sortModel: [{colId: "risk_score", sort: "desc"}]}, defaults);  // the default: no change
out.replaced = replaced.slice();
location.pathname = "/prefix/client/17850";  // a link was followed while a block was loading
location.search = "";
sync({filterModel: {}, sortModel: [{colId: "monetary", sort: "asc"}]}, defaults);
out.replacedElsewhere = replaced.length - out.replaced.length;
console.log(JSON.stringify(out));
