/* AG Grid cell renderers and the grid's clientside callbacks (an asset file: the CSP allows no inline script). */
(function () {
    "use strict";

    var components = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

    function plainClick(event) {
        return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
    }

    /* A customer id as a real link to Client 360 (row field "href", built by the server under the app's prefix):
       middle-click, Ctrl/Cmd+click and "open in new tab" work; a plain click navigates inside the app like
       dcc.Link; Enter on the focused cell follows it too. */
    components.CustomerLink = function (props) {
        var href = props.data && props.data.href;
        var anchor = React.useRef(null);
        var cell = props.eGridCell;
        React.useEffect(function () {
            if (!cell) {
                return undefined;
            }
            var onKey = function (event) {
                if (event.key === "Enter" && anchor.current) {
                    anchor.current.click();
                }
            };
            cell.addEventListener("keydown", onKey);
            return function () { cell.removeEventListener("keydown", onKey); };
        }, [cell]);
        if (!href) {
            return props.value === undefined ? null : String(props.value);
        }
        return React.createElement("a", {
            href: href,
            ref: anchor,
            className: "customer-link",
            tabIndex: -1,  /* the grid cell holds the keyboard focus; Enter on it follows the link */
            onClick: function (event) {
                if (!plainClick(event)) {
                    return;  /* the browser's own behaviour: new tab or window */
                }
                event.preventDefault();
                window.history.pushState({}, "", href);
                window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
                window.scrollTo(0, 0);
            },
        }, props.value);
    };

    /* Functions the grid's options name with {"function": "..."} (dash-ag-grid evaluates the call, no eval).
       choiceIs(value): the predicate of one entry of a choice list (grid_query.choice_filter_params). AG Grid
       drops a custom filter option without a predicate; the list's rows are filtered on the server, so the
       predicate only says what the option means. */
    var functions = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
    functions.choiceIs = function (value) {
        return function (filterValues, cellValue) {
            return cellValue === value;
        };
    };

    /* The grid's filter and sort in the address bar, without reloading (shareable list URLs). defaults: {path: the
       list page's path, sort: the columns' own sort}. A request that arrives once the user has left the page
       (a link followed while a block loads) writes nothing; the default sort is left out of the URL. */
    var clientside = (window.dash_clientside = window.dash_clientside || {});
    clientside.gridUrl = {
        sync: function (request, defaults) {
            defaults = defaults || {};
            if (!request || (defaults.path && window.location.pathname !== defaults.path)) {
                return window.dash_clientside.no_update;
            }
            var params = new URLSearchParams(window.location.search);
            var filter = request.filterModel || {};
            var sort = (request.sortModel || []).map(function (s) { return s.colId + ":" + s.sort; }).join(",");
            if (Object.keys(filter).length) {
                params.set("filter", JSON.stringify(filter));
            } else {
                params.delete("filter");
            }
            if (sort && sort !== defaults.sort) {
                params.set("sort", sort);
            } else {
                params.delete("sort");
            }
            var query = params.toString();
            var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
            if (url !== window.location.pathname + window.location.search + window.location.hash) {
                window.history.replaceState(window.history.state, "", url);
            }
            return window.dash_clientside.no_update;
        },
    };
})();
